# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Interleaved timing, FLOP counts, profiles, the machine, its matmul
ceilings and peak memory."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from benchmarking import timing_memory
from benchmarking.timing_memory import (count_flops, describe_machine,
                                        matmul_rate, profile_step,
                                        time_interleaved)

TOOLS = str(Path(timing_memory.__file__).resolve().parents[1])


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


def test_describe_machine_names_cpu_threads_and_gpu():
    info = describe_machine()
    assert info['cpu_model']
    assert info['logical_cpus'] == os.cpu_count()
    assert 1 <= info['usable_cpus'] <= os.cpu_count()
    assert info['torch_threads'] == torch.get_num_threads()
    assert (info['gpu'] is None) == (not torch.cuda.is_available())
    assert info['env']['MMDetection'].startswith('3.')


def test_matmul_rate_counts_two_n_cubed():
    for precision in ('fp32', 'bf16'):
        out = matmul_rate(size=128, repeats=3, precision=precision)
        assert out['flops_per_product'] == 2 * 128**3
        assert out['precision'] == precision and out['size'] == 128
        assert out['best_gflops'] >= out['median_gflops'] > 0


def test_matmul_rate_rejects_bad_size():
    with pytest.raises(ValueError, match='size'):
        matmul_rate(size=0)
    with pytest.raises(ValueError, match='precision'):
        matmul_rate(size=8, precision='fp16')


@pytest.mark.skipif(
    not Path('/proc/self/status').exists(), reason='needs /proc')
def test_child_peak_is_not_the_parent_peak():
    big = np.ones(300 * 2**20 // 8)  # 300 MiB touched in this process
    assert timing_memory._max_rss_mb() > 300
    # a bare child that only imports the module: its peak is its own
    code = ('from benchmarking.timing_memory import _max_rss_mb; '
            'print(_max_rss_mb())')
    out = subprocess.run([sys.executable, '-c', code],
                         env=dict(os.environ, PYTHONPATH=TOOLS),
                         capture_output=True,
                         text=True,
                         check=True)
    assert 1 < float(out.stdout) < 150
    del big


def test_measure_rejects_unknown_mode():
    with pytest.raises(ValueError, match='mode'):
        timing_memory.measure_peak_rss('plugin_fp32_nchw', 'fly', 'unused.py')
