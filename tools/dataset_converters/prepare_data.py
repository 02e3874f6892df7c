# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Turn the NIH and VinBig tables and images into a six-class VOC dataset.

Example::

    python tools/dataset_converters/prepare_data.py \\
        --nih-csv BBox_List_2017.csv --nih-data-entry Data_Entry_2017.csv \\
        --nih-images nih/images --vinbig-csv train.csv \\
        --vinbig-images vinbig/train --out data/cxr6 --workers 2

Writes ``out/VOCdevkit/VOC2007/{Annotations,JPEGImages,ImageSets/Main}``,
``out/labels.csv`` and ``out/summary.json``; see
:mod:`cxr_mmdet.data_prep.pipeline`.
"""
from __future__ import annotations

import argparse
import json
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Prepare the NIH + VinBig six-class VOC dataset.')
    src = parser.add_argument_group('sources (give NIH, VinBig or both)')
    src.add_argument('--nih-csv', help='NIH BBox_List_2017.csv(.gz)')
    src.add_argument(
        '--nih-data-entry',
        help='NIH Data_Entry_2017*.csv(.gz) for patient ids (optional; '
        'otherwise the number before "_" in the file name)')
    src.add_argument('--nih-images', help='folder of NIH PNGs (searched '
                     'recursively)')
    src.add_argument('--vinbig-csv', help='VinBigData train.csv(.gz)')
    src.add_argument(
        '--vinbig-images',
        help='folder of VinBig images: <image_id>.png/.jpg/.dicom/.dcm')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--size',
        type=int,
        default=300,
        help='output side in pixels (square); 0 keeps the original size')
    parser.add_argument('--test-fraction', type=float, default=0.2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--wbf-iou',
        type=float,
        default=0.4,
        help='IoU threshold of Weighted Box Fusion across radiologists')
    parser.add_argument(
        '--max-images-per-class',
        type=int,
        default=None,
        help='cap frequent classes at N images (rare classes are kept '
        'whole); default: no cap')
    parser.add_argument(
        '--negatives-per-split',
        type=int,
        default=None,
        help='keep at most N "No finding" images per split; default: all')
    parser.add_argument(
        '--box-tolerance',
        type=float,
        default=0.01,
        help='boxes up to this fraction of the image side outside the '
        'image are clipped; beyond it they are dropped')
    parser.add_argument(
        '--label-map',
        help='JSON {"nih": {label: class}, "vinbig": {...}} replacing the '
        'default map of each source it names')
    parser.add_argument('--workers', type=int, default=1,
                        help='image conversion processes')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing --out')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='fail on a missing or unreadable image or an unsafe image id '
        'instead of skipping and listing it')
    parser.add_argument('--no-progress', action='store_true',
                        help='hide the progress bar')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run the preparation for parsed ``args``; return the summary."""
    from cxr_mmdet.data_prep.pipeline import PrepareConfig, prepare_dataset
    config = PrepareConfig(
        out=args.out,
        nih_csv=args.nih_csv,
        nih_data_entry=args.nih_data_entry,
        nih_images=args.nih_images,
        vinbig_csv=args.vinbig_csv,
        vinbig_images=args.vinbig_images,
        size=args.size,
        test_fraction=args.test_fraction,
        seed=args.seed,
        wbf_iou=args.wbf_iou,
        max_images_per_class=args.max_images_per_class,
        negatives_per_split=args.negatives_per_split,
        box_tolerance=args.box_tolerance,
        label_map=args.label_map,
        workers=args.workers,
        overwrite=args.overwrite,
        strict=args.strict,
        progress=not args.no_progress)
    summary = prepare_dataset(config)
    brief = {
        split: {k: v[k] for k in ('images', 'positive_images',
                                  'negative_images', 'boxes')}
        for split, v in summary['splits'].items()
    }
    print(json.dumps({'out': args.out, 'splits': brief,
                      'dropped_rows': summary['dropped_rows'],
                      'missing_images': len(summary['missing_images']),
                      'unreadable_images': len(summary['unreadable_images'])},
                     indent=2))
    return summary


if __name__ == '__main__':
    try:
        main(parse_args())
    except (ValueError, FileExistsError) as err:
        sys.exit(f'prepare_data: error: {err}')
