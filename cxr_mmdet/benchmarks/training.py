# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Training and inference speed of the plugin against torchvision's SSD,
and the training FLOP rate against the machine's matmul rate."""
from __future__ import annotations

from typing import Mapping

from .detectors import CHANNELS_LAST, FRAMEWORKS, Detector
from .timing import count_flops, time_interleaved


def _compare(timed: dict, images_per_step: int, warmup: int,
             iters: int) -> dict:
    out = dict(batch_size=images_per_step, warmup=warmup, iters=iters)
    out.update(timed)

    def ips(name):
        return timed[name]['images_per_s']

    out['ratio'] = ips('plugin') / ips('torchvision')
    out['median_ratio'] = (
        timed['plugin']['median_images_per_s'] /
        timed['torchvision']['median_images_per_s'])
    # the ratio of each round's pair of steps: how much it moves
    rounds = [
        t / p for p, t in zip(timed['plugin']['step_s'], timed['torchvision']
                              ['step_s'])
    ]
    out['ratio_range'] = [min(rounds), max(rounds)]
    cl_plugin = 'plugin' + CHANNELS_LAST
    cl_tv = 'torchvision' + CHANNELS_LAST
    if cl_plugin in timed and cl_tv in timed:
        out['ratio_channels_last'] = ips(cl_plugin) / ips(cl_tv)
        out['channels_last_speedup'] = dict(
            plugin=ips(cl_plugin) / ips('plugin'),
            torchvision=ips(cl_tv) / ips('torchvision'))
    return out


def benchmark_training(detectors: Mapping[str, Detector],
                       warmup: int = 1,
                       iters: int = 5) -> dict:
    """Training images/s of each detector, side by side, and the ratio.

    The first step of ``plugin`` and ``torchvision`` runs under a FLOP
    counter (untimed; an extra warm-up step too), then every detector
    given (``build_detectors(..., channels_last=True)`` adds the
    channels-last copies) runs ``warmup`` untimed steps, then ``iters``
    timed steps taken in turns (:func:`time_interleaved`).

    Returns:
        dict: per detector its timings (``plugin`` and ``torchvision`` also
        ``flops``, the FLOPs of one step, and ``flops_by_op``); ``ratio``
        (plugin images/s over torchvision's, best steps), ``median_ratio``
        (of the median steps) and ``ratio_range`` (lowest
        and highest ratio of one round's pair of steps); with the
        channels-last copies ``ratio_channels_last`` and
        ``channels_last_speedup`` (of each framework); ``batch_size``,
        ``warmup``, ``iters``.
    """
    _check(detectors)
    counted = {
        name: count_flops(detectors[name].train_step)
        for name in FRAMEWORKS
    }
    count = detectors['plugin'].count
    timed = time_interleaved(
        {
            name: det.train_step
            for name, det in detectors.items()
        }, count, warmup, iters)
    for name in FRAMEWORKS:
        timed[name]['flops'] = counted[name]['total']
        timed[name]['flops_by_op'] = counted[name]['by_op']
    return _compare(timed, count, warmup, iters)


def benchmark_inference(detectors: Mapping[str, Detector],
                        warmup: int = 1,
                        iters: int = 5) -> dict:
    """Inference images/s (preprocessing, forward, decoding, NMS) of each
    detector, side by side, and the ratio (as :func:`benchmark_training`,
    without the FLOP count).

    Each framework keeps its stock test settings: the plugin its config's
    ``test_cfg`` (``nms_pre`` 1000, score threshold 0.02, NMS IoU 0.45,
    200 per image) with boxes rescaled to the original image, torchvision
    its defaults (score threshold 0.01, 400 candidates per class, NMS IoU
    0.45, 200 per image). With random weights most anchors score above
    both thresholds, so both keep their most candidates: NMS works at its
    worst case.
    """
    _check(detectors)
    count = detectors['plugin'].count
    timed = time_interleaved(
        {
            name: det.infer_step
            for name, det in detectors.items()
        }, count, warmup, iters)
    return _compare(timed, count, warmup, iters)


def flop_rate(training: dict, matmul: dict) -> dict:
    """The plugin's achieved training FLOP rate against the matmul rate.

    Args:
        training: :func:`benchmark_training`'s result.
        matmul: :func:`~cxr_mmdet.benchmarks.machine.matmul_rate`'s result.

    Returns:
        dict: per framework ``gflops_per_step`` and ``achieved_gflops``
        (FLOPs of a step over its best time, like the matmul's),
        ``matmul_gflops`` (best 2048^3 product) and ``percent_of_matmul``
        of the plugin (and ``torchvision_percent_of_matmul``; with the
        channels-last copy of the plugin, which does the same FLOPs,
        ``percent_of_matmul_channels_last``).
    """
    out = dict(matmul_gflops=matmul['best_gflops'])
    for name in FRAMEWORKS:
        flops = training[name]['flops']
        achieved = flops / training[name]['min_step_s'] / 1e9
        out[name] = dict(gflops_per_step=flops / 1e9, achieved_gflops=achieved)
    out['percent_of_matmul'] = (100.0 * out['plugin']['achieved_gflops'] /
                                matmul['best_gflops'])
    variant = 'plugin' + CHANNELS_LAST
    if variant in training:
        achieved = (
            training['plugin']['flops'] / training[variant]['min_step_s'] /
            1e9)
        out[variant] = dict(achieved_gflops=achieved)
        out['percent_of_matmul_channels_last'] = (100.0 * achieved /
                                                  matmul['best_gflops'])
    out['torchvision_percent_of_matmul'] = (
        100.0 * out['torchvision']['achieved_gflops'] / matmul['best_gflops'])
    return out


def _check(detectors: Mapping[str, Detector]) -> None:
    missing = [name for name in FRAMEWORKS if name not in detectors]
    if missing:
        raise ValueError(f'detectors must hold {list(FRAMEWORKS)!r}, '
                         f'got {sorted(detectors)!r}')
