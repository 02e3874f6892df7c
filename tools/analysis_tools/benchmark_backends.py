# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Inference images/s (batch 8) and batch-1 latency of the config's SSD300
in PyTorch fp32 and bf16, on ONNX Runtime and on OpenVINO, against
torchvision's ``ssd300_vgg16`` fp32 in the same run, NMS included.

``python tools/analysis_tools/benchmark_backends.py [--out-dir D]``
prints the table and writes ``backends.json`` to the output folder.
Goal: the fastest backend at >= 3x torchvision's fp32 images/s.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from benchmarking.backends import (ROWS, fastest_vs_reference,  # noqa: E402
                                   format_backend_table,
                                   run_backend_benchmark)
from benchmarking.suite import quiet_mmengine  # noqa: E402
from benchmarking.timing_memory import describe_machine  # noqa: E402
from benchmarking.report import machine_line  # noqa: E402

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')
GOAL = 3.0


def get_args_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--out-dir', default='work_dirs/benchmark_backends')
    parser.add_argument('--rows', nargs='+', default=list(ROWS),
                        choices=list(ROWS))
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--ort-opt-level', default='all',
                        choices=('disable', 'basic', 'extended', 'all'))
    parser.add_argument('--threads', type=int, default=None,
                        help='ORT intra-op / OpenVINO threads (default: '
                        'the cores)')
    parser.add_argument('--ov-hint', choices=('LATENCY', 'THROUGHPUT'),
                        help='default: THROUGHPUT for batches, LATENCY '
                        'for batch 1')
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return get_args_parser().parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run, print, write ``backends.json``; return the figures."""
    from cxr_mmdet.utils.atomic_io import atomic_write_bytes
    os.makedirs(args.out_dir, exist_ok=True)
    machine = describe_machine()
    start = time.time()
    with quiet_mmengine():
        figures = run_backend_benchmark(
            args.config, args.out_dir, tuple(args.rows), args.batch_size,
            args.warmup, args.iters, args.ort_opt_level, args.threads,
            args.ov_hint)
    machine['load_average_end'] = [round(x, 2) for x in os.getloadavg()]
    figures.update(machine=machine, seconds=round(time.time() - start, 1),
                   date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    print(f'Machine: {machine_line(machine)}\n')
    print(format_backend_table(figures))
    if 'torchvision_fp32' in figures['batch'] and len(figures['rows']) > 1:
        name, ratio = fastest_vs_reference(figures)
        figures['goal'] = dict(fastest=name, ratio=ratio, target=GOAL,
                               met=ratio >= GOAL)
        print(f'\nfastest: {ROWS[name]}, {ratio:.2f}x torchvision fp32 '
              f'(goal >= {GOAL}x: {"met" if ratio >= GOAL else "not met"})')
    out = osp.join(args.out_dir, 'backends.json')
    atomic_write_bytes(json.dumps(figures, indent=1).encode(), out)
    print(f'figures written to {out}')
    return figures


if __name__ == '__main__':
    main(parse_args())
