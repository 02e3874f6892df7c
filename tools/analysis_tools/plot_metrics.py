# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Plot a work dir's training curves, metrics, ROC and per-class results.

Reads only what training and testing left behind (mmengine's
``<timestamp>/vis_data/scalars.json``, ``epoch_*.pth`` names,
``roc/*.json`` from ``ROCCurveHook``, an optional ``per_class.json``) and
writes ``loss_curve.png``, ``metrics.png``, ``roc_curves.png`` and
``per_class.png``. Missing pieces are reported, never fatal.

Example::

    python tools/analysis_tools/plot_metrics.py work_dirs/ssd300_cxr6
"""
from __future__ import annotations

import argparse
import sys

from cxr_mmdet.visualization.work_dir_plots import plot_work_dir


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Plot losses, metrics, ROC curves and per-class results '
        'of a work dir, from its logs (no re-run)')
    parser.add_argument('work_dir', help='the training/testing work dir')
    parser.add_argument(
        '--out-dir', help='where to write the PNGs (default: the work dir)')
    parser.add_argument(
        '--ckpt-interval',
        type=int,
        help='also mark every multiple of this epoch as a checkpoint '
        '(CheckpointHook interval); epoch_*.pth files are always marked')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> int:
    """Write the plots; return 0 if at least one was written, else 1."""
    try:
        result = plot_work_dir(args.work_dir, args.out_dir, args.ckpt_interval)
    except ValueError as e:
        print(f'plot_metrics: {e}', file=sys.stderr)
        return 1
    for message in result.messages:
        print(f'plot_metrics: {message}')
    for name, path in result.written.items():
        print(f'{name}: {path}')
    return 0 if result.written else 1


if __name__ == '__main__':
    sys.exit(main(parse_args()))
