# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write a raw demo dataset: real NIH/VinBig rows on synthetic images.

    python tools/dataset_converters/make_demo_data.py --out data/demo_raw \
        [--num-images 480]

The output is read by ``tools/dataset_converters/prepare_data.py`` exactly
as real data::

    --nih-csv D/nih/BBox_List_2017.csv
    --nih-data-entry D/nih/Data_Entry_2017.csv --nih-images D/nih/images
    --vinbig-csv D/vinbig/train.csv --vinbig-images D/vinbig/images
"""
from __future__ import annotations

import argparse
import time

from cxr_mmdet.demo_data import (DEMO_MIN_BOX_SIZE, MANIFEST_NAME,
                                 format_counts, make_demo_dataset)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-images', type=int, default=480,
                        help='images in all (NIH + VinBig)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--long-side', type=int, default=512,
                        help='long side in pixels of the written images')
    parser.add_argument('--negative-fraction', type=float, default=0.1,
                        help="share of all-'No finding' VinBig images")
    parser.add_argument('--nih-share', type=float, default=0.5,
                        help='chance to draw a class from NIH where NIH '
                        'has it')
    parser.add_argument('--num-dicom', type=int, default=8,
                        help='VinBig images written as DICOM (half '
                        'MONOCHROME1)')
    parser.add_argument('--merge-iou', type=float, default=0.4,
                        help="IoU at which VinBig readers' boxes are drawn "
                        'as one lesion')
    parser.add_argument(
        '--min-box-size', type=float, default=DEMO_MIN_BOX_SIZE,
        help='draw only images whose lesion boxes are all at least this '
        'many pixels (sqrt of the area) at 300x300, so that a small CPU '
        'model can learn them in minutes; 0 keeps every image')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an earlier demo dataset in --out')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Generate the dataset, print a summary, return the manifest."""
    start = time.perf_counter()
    manifest = make_demo_dataset(
        args.out, num_images=args.num_images, seed=args.seed,
        long_side=args.long_side, negative_fraction=args.negative_fraction,
        nih_share=args.nih_share, num_dicom=args.num_dicom,
        merge_iou=args.merge_iou, min_box_size=args.min_box_size,
        overwrite=args.overwrite,
        progress=not args.no_progress)
    counts = manifest['counts']
    print(f'wrote {counts["images"]} images '
          f'({counts["images_by_source"]}, {counts["negatives"]} negatives, '
          f'files {counts["files_by_kind"]}) to {args.out} in '
          f'{time.perf_counter() - start:.1f} s')
    print(format_counts(manifest))
    print(f'unmapped rows (data prep counts them): '
          f'{counts["unmapped_rows"]}')
    print(f'manifest: {args.out}/{MANIFEST_NAME}')
    return manifest


if __name__ == '__main__':
    main(parse_args())
