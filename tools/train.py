# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Train a detector: ``python tools/train.py CONFIG [options]``.

The same arguments as mmdet's ``tools/train.py``; the plugin is imported
so configs may also omit ``custom_imports``.
"""
from __future__ import annotations

import argparse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from cxr_mmdet.apis.cli import add_runner_args, parse_runner_args
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
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


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
