# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Benchmark the plugin against torchvision's SSD300 and the machine.

Prints one table and writes every figure to JSON: training and inference
images/s of the config's SSD300-VGG16 in fp32 NCHW, fp32 NHWC and bf16
(NHWC, CPU autocast) against ``torchvision``'s ``ssd300_vgg16`` in fp32
and bf16 on the same batch (side by side, in this process); the fp32 and
bf16 matmul ceilings and each training rate as a share of the ceiling of
its own precision; the training data pipeline against the model's
consumption; data preparation; evaluation of 1,000 images; the peak
memory of a training and an inference step.

Examples::

    python tools/analysis_tools/benchmark.py             # full run (minutes)
    python tools/analysis_tools/benchmark.py --quick     # tiny (the test's)
    python tools/analysis_tools/benchmark.py --json work_dirs/bench.json
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

from benchmarking.detectors import VARIANTS
from benchmarking.report import format_table, goal_values
from benchmarking.suite import SECTIONS, BenchmarkSettings, run_suite

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Benchmark cxr_mmdet against torchvision SSD300 and '
        'the machine')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='the SSD300 config to benchmark')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/benchmark',
        help='folder of the JSON report')
    parser.add_argument(
        '--json',
        default=None,
        help='JSON report path (default OUT_DIR/benchmark.json)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny sizes, every section in about a minute (the test suite '
        'runs it); the figures are not meaningful')
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='sections to run')
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=list(VARIANTS),
        help='detector variants to time (default: all)')
    parser.add_argument(
        '--batch-size', type=int, help='training/inference batch (default 8)')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed steps of each variant (default 1, after the '
        'FLOP-counted one)')
    parser.add_argument(
        '--iters', type=int, help='timed steps of each variant (default 5)')
    parser.add_argument(
        '--matmul-size',
        type=int,
        help='side of the matmul ceilings\' square matrices (default 4096)')
    parser.add_argument(
        '--eval-images',
        type=int,
        help='images of predictions to evaluate (default 1000)')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also profile one training and inference step of each variant '
        '(where the time goes; one more step each)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch intra-op threads (default: torch\'s)')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run the benchmark, print its table, write the JSON; return the
    figures."""
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = (
        BenchmarkSettings.quick(args.config)
        if args.quick else BenchmarkSettings(args.config))
    for name in ('batch_size', 'warmup', 'iters', 'matmul_size',
                 'eval_images'):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, name, value)
    if args.variants:
        settings.variants = tuple(args.variants)
    settings.sections = tuple(args.sections)
    settings.profile = args.profile

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    figures = run_suite(settings, log=log)
    figures['quick'] = bool(args.quick)
    figures['command'] = ' '.join([osp.basename(sys.argv[0])] + sys.argv[1:])
    figures['goals'] = goal_values(figures)
    out = args.json or osp.join(args.out_dir, 'benchmark.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w', encoding='utf-8') as f:
        json.dump(figures, f, indent=2)
    print(format_table(figures))
    return figures


if __name__ == '__main__':
    main(parse_args())
