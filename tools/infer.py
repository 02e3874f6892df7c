# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Detect abnormalities in radiographs.

``python tools/infer.py CONFIG CHECKPOINT INPUT... --out-dir D``: INPUT is a
PNG, JPEG or DICOM file or a folder of them. Writes ``predictions.json``
(boxes in each input image's pixel frame, class names, scores) and one
``<name>_pred.png`` overlay per image.
"""
from __future__ import annotations

import argparse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> str:
    """Run inference; return the path of predictions.json."""
    from cxr_mmdet.apis import run_inference
    out = run_inference(args.config, args.checkpoint, args.inputs,
                        args.out_dir, args.score_thr, args.device)
    print(f'predictions: {out}')
    return out


if __name__ == '__main__':
    main(parse_args())
