# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

``--split val`` evaluates on the validation images (``val.txt``), the
default ``--split test`` on the held-out test images (``test.txt``).

mmdet's ``tools/test.py`` arguments; it also prints a summary table
(mAP, mAP50, mAP@0.4, mAUC, FROC, per-class AP and AUC) as
``value [low, high]`` (bootstrap interval over images resampled by NIH
patient / VinBig image, ``--bootstrap`` resamples at ``--ci-level``) with
an NIH and a VinBig column, and writes ``metrics.json``,
``per_class.json``, ``metrics_ci.json`` and ``metrics_by_source.json`` in
the work dir. ``--split val`` also chooses per-class operating points
(the threshold reaching 0.9 lesion sensitivity, the one keeping 1 FP per
image) into ``operating_points.json``; on test, those beside the
checkpoint (or ``--operating-points``) are checked and the result written
to ``operating_points_test.json``.

``--ensemble CKPT2 ...`` and/or ``--tta flip`` evaluate the detections of
every checkpoint (and of the mirrored images) fused by Weighted Box
Fusion, with the same evaluators and the same metric keys.
"""
from __future__ import annotations

import argparse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from cxr_mmdet.apis.cli import add_runner_args, parse_runner_args
    from cxr_mmdet.deployment import WBF_IOU_THR
    parser = argparse.ArgumentParser(description='Test a CXR detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs/metrics')
    parser.add_argument(
        '--split',
        choices=('val', 'test'),
        default='test',
        help='image set to evaluate: the test loader reads '
        'ImageSets/Main/<split>.txt (default: test)')
    parser.add_argument(
        '--bootstrap',
        type=int,
        default=1000,
        help='bootstrap resamples of the confidence intervals (0: none)')
    parser.add_argument(
        '--ci-level',
        type=float,
        default=0.95,
        help='coverage of the confidence intervals (default: 0.95)')
    parser.add_argument(
        '--operating-points',
        help='operating_points.json whose per-class thresholds are '
        'checked on this split (default: the one beside the checkpoint); '
        'with --split val the thresholds are chosen and written instead')
    parser.add_argument(
        '--out', type=str, help='dump predictions to this .pkl file')
    parser.add_argument(
        '--show-dir', help='draw predictions into images in this dir')
    parser.add_argument(
        '--tta',
        nargs='?',
        const='mmdet',
        choices=('mmdet', 'flip'),
        help="test time augmentation: alone, the config's tta_model "
        "(mmdet's NMS merge); 'flip': the image and its mirror fused by "
        'WBF (with --ensemble too)')
    parser.add_argument(
        '--ensemble',
        nargs='+',
        default=[],
        metavar='CKPT',
        help='more checkpoints of the same config, fused with CHECKPOINT '
        'by WBF per image and class')
    parser.add_argument(
        '--wbf-iou-thr',
        type=float,
        default=WBF_IOU_THR,
        help=f'WBF IoU threshold (default {WBF_IOU_THR}, the VinBigData '
        "winners')")
    parser.add_argument(
        '--wbf-skip-thr',
        type=float,
        default=0.0,
        help='WBF drops boxes scoring below this first (default 0)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='test under autocast (CUDA fp16, CPU bf16)')
    add_runner_args(parser)
    args = parse_runner_args(parser, argv)
    if args.bootstrap < 0:
        parser.error(f'--bootstrap must be 0 or more, got {args.bootstrap}')
    if not 0 < args.ci_level < 1:
        parser.error(f'--ci-level must lie in (0, 1), got {args.ci_level}')
    return args


def main(args: argparse.Namespace) -> dict:
    """Evaluate; print and save the summary; return the metrics dict (on
    every rank)."""
    from cxr_mmdet.apis import (evaluate_checkpoint, format_operating_points,
                                format_summary)
    result = evaluate_checkpoint(
        args.config,
        args.checkpoint,
        work_dir=args.work_dir,
        split=args.split,
        out=args.out,
        show_dir=args.show_dir,
        tta=args.tta == 'mmdet',
        cfg_options=args.cfg_options,
        launcher=args.launcher,
        amp=args.amp,
        bootstrap=args.bootstrap,
        ci_level=args.ci_level,
        operating_points=args.operating_points,
        ensemble=args.ensemble,
        wbf_tta='flip' if args.tta == 'flip' else 'none',
        wbf_iou_thr=args.wbf_iou_thr,
        wbf_skip_thr=args.wbf_skip_thr)
    if result.summary is not None:
        print(format_summary(result.summary, f'{args.split} split',
                             result.intervals, result.by_source))
        if result.operating_points is not None:
            print(format_operating_points(
                result.operating_points,
                f'operating points ({args.split} split)'))
        print('metrics written to ' + ', '.join(result.paths))
    return result.metrics


if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error
    with exit_on_user_error('test'):
        main(parse_args())
