# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Time the bootstrap of the test figures.

``python tools/analysis_tools/benchmark_bootstrap.py``: evaluates
synthetic predictions (``cxr_mmdet.testing.synthetic_eval_samples``) with
the configs' evaluators, then times :func:`bootstrap_intervals` (all
headline, per-class and FROC keys) and prints both times.
"""
from __future__ import annotations

import argparse
import time


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=1000)
    parser.add_argument('--dets-per-image', type=int, default=200)
    parser.add_argument('--bootstrap', type=int, default=1000)
    parser.add_argument(
        '--images-per-group',
        type=int,
        default=2,
        help='images sharing a group (an NIH patient)')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run the benchmark; print and return the times (seconds)."""
    from cxr_mmdet.evaluation import bootstrap_intervals
    from cxr_mmdet.testing import run_evaluator, synthetic_eval_samples
    samples = synthetic_eval_samples(
        args.images, args.dets_per_image, seed=args.seed)
    start = time.perf_counter()
    evaluator, _ = run_evaluator(samples)
    evaluated = time.perf_counter()
    img_ids = [s.img_id for s in samples]
    groups = [k // args.images_per_group for k in range(len(img_ids))]
    intervals = bootstrap_intervals(evaluator.metrics, img_ids, groups,
                                    args.bootstrap, seed=args.seed)
    done = time.perf_counter()
    times = dict(evaluate=evaluated - start, bootstrap=done - evaluated)
    print(f'{args.images} images, {args.dets_per_image} detections each, '
          f'B = {args.bootstrap}, {len(intervals)} keys: evaluation '
          f'{times["evaluate"]:.1f} s, bootstrap {times["bootstrap"]:.1f} s, '
          f'total {sum(times.values()):.1f} s')
    return times


if __name__ == '__main__':
    main(parse_args())
