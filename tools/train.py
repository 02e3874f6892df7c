# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Train a detector: ``python tools/train.py CONFIG [options]``.

The same arguments as mmdet's ``tools/train.py``; the plugin is imported
so configs may also omit ``custom_imports``.
"""
from __future__ import annotations

import argparse
import os


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description='Train a CXR detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='enable automatically scaling LR')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work dir')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(args: argparse.Namespace) -> object:
    """Build the runner from the config and train; return the runner."""
    from cxr_mmdet.apis import train_detector
    return train_detector(
        args.config,
        work_dir=args.work_dir,
        resume=args.resume,
        amp=args.amp,
        auto_scale_lr=args.auto_scale_lr,
        cfg_options=args.cfg_options,
        launcher=args.launcher)


if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error
    with exit_on_user_error('train'):
        main(parse_args())
