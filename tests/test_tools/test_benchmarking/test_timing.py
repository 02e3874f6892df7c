# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Interleaved timing and FLOP counting."""
from __future__ import annotations

import time

import pytest
import torch

from cxr_mmdet.benchmarks.timing import (count_flops, profile_step,
                                         time_interleaved)


def test_time_interleaved_alternates_and_measures():
    calls = []

    def step(name, seconds):

        def run():
            calls.append(name)
            time.sleep(seconds)

        return run

    out = time_interleaved(
        {
            'fast': step('fast', 0.01),
            'slow': step('slow', 0.04)
        },
        images_per_step=4,
        warmup=1,
        iters=4)
    # warm-up of each, then turns with the order reversed every round
    assert calls == ['fast', 'slow'] + [
        'fast', 'slow', 'slow', 'fast', 'fast', 'slow', 'slow', 'fast'
    ]
    assert len(out['fast']['step_s']) == 4
    slow = out['slow']
    assert slow['median_step_s'] >= slow['min_step_s'] >= 0.04
    assert out['fast']['images_per_s'] > slow['images_per_s']
    # the headline rate is the best step's
    assert slow['images_per_s'] == pytest.approx(4 / slow['min_step_s'])
    assert slow['images_per_s'] >= slow['median_images_per_s']
    assert slow['images_per_s'] <= 4 / 0.04


def test_time_interleaved_rejects_bad_counts():
    with pytest.raises(ValueError, match='iters'):
        time_interleaved({'a': lambda: None}, 1, iters=0)


def test_count_flops_of_a_training_step_is_exact():
    layer = torch.nn.Linear(16, 8, bias=False)
    x = torch.randn(5, 16)

    def step():
        layer(x).sum().backward()

    out = count_flops(step)
    forward = 2 * 5 * 16 * 8
    # backward: grad wrt the weight only (x needs no grad)
    assert out['total'] == 2 * forward
    assert out['by_op'] == {'mm': 2 * forward}


def test_profile_step_splits_dense_from_other_time():
    layer = torch.nn.Linear(64, 64)
    x = torch.randn(256, 64)

    def step():
        y = layer(x)
        for _ in range(5):
            y = torch.relu(y) * 1.5

    out = profile_step(step, top=3)
    assert 0 < out['dense_s'] <= out['total_s']
    assert out['other_s'] == pytest.approx(out['total_s'] - out['dense_s'])
    assert 0 < out['dense_share'] < 1
    names = [op['name'] for op in out['top_ops']]
    assert len(names) == 3
    assert 'aten::addmm' in [
        e['name'] for e in profile_step(step, top=50)['top_ops']
    ]
