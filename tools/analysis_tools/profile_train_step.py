# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Profile the parts of an SSD training step around the convolutions.

``python tools/analysis_tools/profile_train_step.py [CONFIG] [--batch 8]``
times, with ``torch.profiler``, the data preprocessor, the head's forward,
anchor generation, target assignment and encoding (``get_targets``), the
loss (hard-negative mining, cross-entropy, smooth-L1) and the backward down
to the neck's outputs, on synthetic 300 px images with 1-3 boxes each, and
prints the non-convolution operators that take the most self time. The
backbone and neck run once, outside the profile (their outputs are fed to
the head as leaves), so the profile holds what lies around them.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

DEFAULT = 'configs/ssd/ssd300_vgg16_1xb64-300e_cxr6.py'
PHASES = ('preprocess', 'head_forward', 'get_anchors',
          'get_targets', 'loss_by_feat_single', 'backward')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=DEFAULT)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--rows', type=int, default=15)
    return parser.parse_args(argv)


def synthetic_batch(batch: int, size: int = 300, seed: int = 0) -> dict:
    """A ``data_batch`` as the dataloader gives it: uint8 CHW images and
    ``DetDataSample`` s with 1-3 boxes of 6 classes."""
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=g,
                          dtype=torch.uint8))
        n = int(torch.randint(1, 4, (1, ), generator=g))
        xy = torch.rand(n, 2, generator=g) * size * 0.6
        wh = torch.rand(n, 2, generator=g) * size * 0.3 + 10
        sample = DetDataSample(metainfo=dict(
            img_shape=(size, size), ori_shape=(size, size),
            pad_shape=(size, size), scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], 1),
            labels=torch.randint(0, 6, (n, ), generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _timed(obj, name: str, label: str) -> None:
    """Wrap ``obj.name`` in a profiler ``record_function(label)``."""
    from torch.profiler import record_function
    method = getattr(obj, name)

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with record_function(label):
            return method(*args, **kwargs)

    setattr(obj, name, wrapper)


def main(args: argparse.Namespace) -> dict:
    """Print the per-phase and per-operator times; return phase seconds
    per step."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from torch.profiler import ProfilerActivity, profile, record_function

    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.engine.hooks import to_channels_last
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    if any(h.get('type') == 'ChannelsLastHook'
           for h in cfg.get('custom_hooks', [])):
        to_channels_last(model)
    model.train()
    head = model.bbox_head
    for name in ('get_anchors', 'get_targets', 'loss_by_feat_single'):
        _timed(head, name, name)
    _timed(head, 'forward', 'head_forward')
    data = synthetic_batch(args.batch)
    with torch.no_grad():
        batch = model.data_preprocessor(data, True)
        feats = [f.detach() for f in model.extract_feat(batch['inputs'])]

    def step():
        with record_function('preprocess'):
            batch = model.data_preprocessor(data, True)
        leaves = [f.clone().requires_grad_() for f in feats]
        losses = head.loss(leaves, batch['data_samples'])
        loss, _ = model.parse_losses(losses)
        with record_function('backward'):
            loss.backward()
        head.zero_grad()

    step()  # warm-up
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(args.steps):
            step()
    wall = (time.perf_counter() - start) / args.steps
    events = {e.key: e for e in prof.key_averages()}
    phases = {
        p: events[p].cpu_time_total / 1e6 / args.steps
        for p in PHASES if p in events
    }
    print(f'around the convolutions: {wall:.3f} s/step (batch {args.batch}, '
          f'{torch.get_num_threads()} threads)')
    for p, t in phases.items():
        print(f'  {p:<20} {t * 1e3:9.1f} ms')
    rows = [
        e for e in prof.key_averages()
        if 'conv' not in e.key and 'mkldnn' not in e.key
        and e.key not in PHASES and not e.key.startswith('Optimizer')
    ]
    rows.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    print('non-convolution operators by self time (ms/step):')
    for e in rows[:args.rows]:
        print(f'  {e.key:<45} {e.self_cpu_time_total / 1e3 / args.steps:8.1f}'
              f'  x{e.count // args.steps}')
    return phases


if __name__ == '__main__':
    main(parse_args())
