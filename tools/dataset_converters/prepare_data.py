# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Turn the NIH and VinBig tables and images into a six-class VOC dataset.

Example::

    python tools/dataset_converters/prepare_data.py \\
        --nih-csv BBox_List_2017.csv --nih-data-entry Data_Entry_2017.csv \\
        --nih-images nih/images --vinbig-csv train.csv \\
        --vinbig-images vinbig/train --out data/cxr6 --workers 2

Writes ``out/VOCdevkit/VOC2007/{Annotations,JPEGImages,ImageSets/Main}``
(image sets ``train``, ``val``, ``test`` and ``trainval``),
``out/labels.csv`` and ``out/summary.json``; see
:mod:`cxr_mmdet.data_prep.pipeline`. The options and their defaults are
:class:`cxr_mmdet.data_prep.options.PrepareConfig`'s.
"""
from __future__ import annotations

import argparse
import json
import sys

from cxr_mmdet.data_prep.options import build_parser, config_from_args


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    return build_parser().parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run the preparation for parsed ``args``; return the summary."""
    from cxr_mmdet.data_prep.pipeline import prepare_dataset
    summary = prepare_dataset(config_from_args(args))
    brief = {
        split: {k: v[k] for k in ('images', 'positive_images',
                                  'negative_images', 'boxes')}
        for split, v in summary['splits'].items()
    }
    print(json.dumps({'out': args.out, 'splits': brief,
                      'dropped_rows': summary['dropped_rows'],
                      'image_class_pairs_without_boxes':
                      summary['image_labels'][
                          'image_class_pairs_without_boxes'],
                      'missing_images': len(summary['missing_images']),
                      'unreadable_images': len(summary['unreadable_images'])},
                     indent=2))
    return summary


if __name__ == '__main__':
    from cxr_mmdet.utils.atomic_io import FolderLockedError
    try:
        main(parse_args())
    except (ValueError, FileExistsError, FolderLockedError) as err:
        sys.exit(f'prepare_data: error: {err}')
