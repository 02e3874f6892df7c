# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Interleaved timing of competing steps, and FLOP counting of one step."""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable, Mapping


def time_interleaved(steps: Mapping[str, Callable[[], Any]],
                     images_per_step: int,
                     warmup: int = 1,
                     iters: int = 5) -> dict:
    """Time competing steps side by side in this process.

    Each step first runs ``warmup`` untimed times; then the steps take
    turns, one step each per round, the order reversed every other round,
    so that a change of machine load hits all of them alike. The headline
    rate is that of the best (shortest) step, as ``timeit`` advises and as
    the matmul rate is taken: on a shared machine other jobs only ever
    slow a step down; the median and mean rates are kept beside it.

    Args:
        steps: ``{name: step}``; a step is a callable doing one batch.
        images_per_step: Images one step processes (the batch size).
        warmup: Untimed steps of each, first.
        iters: Timed steps of each.

    Returns:
        dict: Per name ``images_per_s`` (``images_per_step`` over the
        shortest step time), ``median_images_per_s``,
        ``mean_images_per_s``, ``min_step_s``, ``median_step_s`` and
        ``step_s`` (every timed step, seconds).
    """
    if iters < 1 or warmup < 0 or images_per_step < 1:
        raise ValueError('need iters >= 1, warmup >= 0, images_per_step >= '
                         f'1, got {iters!r}, {warmup!r}, {images_per_step!r}')
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for i in range(iters):
        for name in (names if i % 2 == 0 else names[::-1]):
            start = time.perf_counter()
            steps[name]()
            seconds[name].append(time.perf_counter() - start)
    out = {}
    for name in names:
        median = statistics.median(seconds[name])
        mean = statistics.fmean(seconds[name])
        best = min(seconds[name])
        out[name] = dict(
            images_per_s=images_per_step / best,
            median_images_per_s=images_per_step / median,
            mean_images_per_s=images_per_step / mean,
            min_step_s=best,
            median_step_s=median,
            step_s=[round(s, 4) for s in seconds[name]])
    return out


def count_flops(step: Callable[[], Any]) -> dict:
    """Count the floating-point operations of one call of ``step``.

    Uses ``torch.utils.flop_counter.FlopCounterMode``, which counts the
    matrix products and convolutions (forward and backward; 2 FLOPs per
    multiply-add) and nothing else: element-wise ops, NMS and the loss
    bookkeeping are free in its count, so the FLOP rate it gives is the
    rate of the dense maths.

    Returns:
        dict: ``total`` FLOPs and ``by_op`` (FLOPs per aten op).
    """
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    counts = counter.get_flop_counts().get('Global', {})
    by_op = {
        str(op).replace('aten.', ''): int(flops)
        for op, flops in counts.items()
    }
    return dict(total=int(counter.get_total_flops()), by_op=by_op)


#: aten ops that do the dense maths of a conv net (forward and backward).
DENSE_OPS = ('aten::mkldnn_convolution', 'aten::convolution_backward',
             'aten::addmm', 'aten::mm', 'aten::bmm', 'aten::_convolution',
             'aten::cudnn_convolution')


def profile_step(step: Callable[[], Any], top: int = 12) -> dict:
    """Profile one call of ``step`` with ``torch.profiler`` (CPU).

    Splits the self time into the dense ops (convolutions and matrix
    products, forward and backward) and everything else, the evidence of
    where a step's time goes.

    Returns:
        dict: ``total_s`` (self time of all ops), ``dense_s``,
        ``dense_share``, ``other_s`` and ``top_ops`` (the ``top`` ops by
        self time: ``name``, ``self_s``, ``calls``).
    """
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e6
    dense = sum(e.self_cpu_time_total
                for e in events if e.key in DENSE_OPS) / 1e6
    ranked = sorted(events, key=lambda e: -e.self_cpu_time_total)[:top]
    return dict(
        total_s=total,
        dense_s=dense,
        dense_share=dense / total if total else 0.0,
        other_s=total - dense,
        top_ops=[
            dict(
                name=e.key,
                self_s=round(e.self_cpu_time_total / 1e6, 4),
                calls=e.count) for e in ranked
        ])
