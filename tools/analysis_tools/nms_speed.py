# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Time mmcv's and the plugin's (torchvision) ``batched_nms`` per batch.

``python tools/analysis_tools/nms_speed.py [--images 8] [--boxes 4000]``
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=8)
    parser.add_argument('--boxes', type=int, default=4000)
    parser.add_argument('--classes', type=int, default=6)
    parser.add_argument('--repeats', type=int, default=10)
    return parser.parse_args(argv)


def ssd_like_outputs(n: int, classes: int, seed: int):
    """``n`` boxes clustered around a few objects in a 300 px image, softmax
    scores of ``classes`` + background, floored at SSD's 0.02."""
    import torch
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(max(n // 200, 2), 2, generator=g) * 300
    pick = torch.randint(len(centres), (n, ), generator=g)
    ctr = centres[pick] + torch.randn(n, 2, generator=g) * 7.5
    wh = torch.rand(n, 2, generator=g) * 75 + 2
    boxes = torch.cat([ctr - wh / 2, ctr + wh / 2], 1).clamp(0, 300)
    probs = (torch.randn(n, classes + 1, generator=g) * 2).softmax(-1)
    scores, labels = probs[:, :classes].max(-1)
    return boxes, scores.clamp(min=0.02), labels


def main(args: argparse.Namespace) -> dict:
    """Print and return seconds per batch for each implementation."""
    import torch

    import cxr_mmdet  # noqa: F401  installs the torchvision NMS
    from cxr_mmdet.compat import torchvision_nms as tvn
    module = importlib.import_module('mmcv.ops.nms')
    batch = [
        ssd_like_outputs(args.boxes, args.classes, seed)
        for seed in range(args.images)
    ]
    results = {}
    for split_thr in (0, 10000):
        cfg = dict(type='nms', iou_threshold=0.45, split_thr=split_thr)
        for name in ('mmcv', 'torchvision'):
            module.nms = tvn._mmcv('nms') if name == 'mmcv' else tvn.nms
            fn = tvn._mmcv('batched_nms') if name == 'mmcv' \
                else tvn.batched_nms
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                for boxes, scores, labels in batch:
                    fn(boxes, scores, labels, dict(cfg))
                times.append(time.perf_counter() - start)
            results[(split_thr, name)] = min(times)
        module.nms = tvn.nms
        print(f'split_thr={split_thr:<6} mmcv '
              f'{results[(split_thr, "mmcv")]:.4f} s/batch, torchvision '
              f'{results[(split_thr, "torchvision")]:.4f} s/batch '
              f'({args.images} images x {args.boxes} boxes, '
              f'{torch.get_num_threads()} threads)')
    return results


if __name__ == '__main__':
    main(parse_args())
