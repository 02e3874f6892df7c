# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Benchmark the plugin against torchvision's SSD300 and the machine.

Prints one table and writes every figure to JSON: training and inference
images/s of the config's SSD300-VGG16 against ``torchvision``'s
``ssd300_vgg16`` on the same batch (side by side, in this process), the
training FLOP rate as a share of the fp32 matmul rate measured in the same
run, the training data pipeline against the model's consumption, data
preparation (``tools/benchmark_data_prep.py``), evaluation of 1,000 images
and the peak memory of a training and an inference step.

Examples::

    python tools/benchmark.py                   # full run (minutes)
    python tools/benchmark.py --quick           # tiny run (the test's)
    python tools/benchmark.py --out-dir work_dirs/bench --json bench.json
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

DEFAULT_CONFIG = osp.join(ROOT, 'configs', 'ssd',
                          'ssd300_vgg16_1xb64-300e_cxr6.py')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from cxr_mmdet.benchmarks.suite import SECTIONS
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
        help='tiny sizes, every section in well under a minute (the '
        'test suite runs it); the figures are not meaningful')
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='sections to run')
    parser.add_argument(
        '--batch-size', type=int, help='training/inference batch (default 8)')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed steps of each model (default 1, after the '
        'FLOP-counted one)')
    parser.add_argument(
        '--iters', type=int, help='timed steps of each model (default 5)')
    parser.add_argument(
        '--eval-images',
        type=int,
        help='images of predictions to evaluate (default 1000)')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also profile one training and inference step of each model '
        '(where the time goes; one more step each)')
    parser.add_argument(
        '--no-channels-last',
        action='store_true',
        help='do not time the channels-last copies of the two models')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch intra-op threads (default: torch\'s)')
    return parser.parse_args(argv)


def data_prep_figures(quick: bool) -> dict:
    """Table work on the real tables and image conversion, timed by
    ``tools/benchmark_data_prep.py``'s functions."""
    from tools import benchmark_data_prep as prep
    argv = ['--repeat', '1' if quick else '3']
    if quick:
        argv += [
            '--png-images', '2', '--dicom-images', '1', '--dicom-shape', '600',
            '500', '--workers', '1'
        ]
    args = prep.parse_args(argv)
    tables_s, _ = prep.time_tables(args.repeat)
    return dict(
        tables_s=tables_s,
        repeat=args.repeat,
        image_conversion=prep.time_images(args))


def main(args: argparse.Namespace) -> dict:
    """Run the benchmark, print its table, write the JSON; return the
    figures."""
    import torch

    from cxr_mmdet.benchmarks.report import format_table, goal_values
    from cxr_mmdet.benchmarks.suite import BenchmarkSettings, run_suite
    if args.threads:
        torch.set_num_threads(args.threads)
    settings = (
        BenchmarkSettings.quick(args.config)
        if args.quick else BenchmarkSettings(args.config))
    for name in ('batch_size', 'warmup', 'iters', 'eval_images'):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, name, value)
    settings.sections = tuple(args.sections)
    settings.profile = args.profile
    if args.no_channels_last:
        settings.channels_last = False

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    figures = run_suite(
        settings, data_prep=lambda: data_prep_figures(args.quick), log=log)
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
