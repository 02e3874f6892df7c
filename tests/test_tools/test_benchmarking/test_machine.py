# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Machine description and matmul rate."""
from __future__ import annotations

import os

import pytest
import torch

from cxr_mmdet.benchmarks.machine import describe_machine, matmul_rate


def test_describe_machine_names_cpu_threads_and_gpu():
    info = describe_machine()
    assert info['cpu_model']
    assert info['logical_cpus'] == os.cpu_count()
    assert 1 <= info['usable_cpus'] <= os.cpu_count()
    assert info['torch_threads'] == torch.get_num_threads()
    assert (info['gpu'] is None) == (not torch.cuda.is_available())
    assert info['versions']['mmdet'].startswith('3.')


def test_matmul_rate_counts_two_n_cubed():
    out = matmul_rate(size=128, repeats=3)
    assert out['flops_per_product'] == 2 * 128**3
    assert out['best_gflops'] >= out['median_gflops'] > 0


def test_matmul_rate_rejects_bad_size():
    with pytest.raises(ValueError, match='size'):
        matmul_rate(size=0)
