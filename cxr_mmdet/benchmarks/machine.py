# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The machine a benchmark ran on, and its fp32 matrix-multiply rate."""
from __future__ import annotations

import os
import platform
import subprocess
import time


def cpu_model_name() -> str:
    """``lscpu``'s ``Model name`` (``/proc/cpuinfo`` or ``platform`` as
    fallbacks)."""
    try:
        out = subprocess.run(['lscpu'],
                             capture_output=True,
                             text=True,
                             timeout=10,
                             env={
                                 **os.environ, 'LC_ALL': 'C'
                             }).stdout
        for line in out.splitlines():
            if line.strip().startswith('Model name:'):
                return line.split(':', 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


#: CPU features that set the fp32/bf16 maths rate, reported when present.
CPU_FEATURES = ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile')


def cpu_features() -> list[str]:
    """The :data:`CPU_FEATURES` the CPU reports (``/proc/cpuinfo``)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return [x for x in CPU_FEATURES if x in flags]
    except OSError:
        pass
    return []


def describe_machine() -> dict:
    """CPU model, core counts, torch threads, GPU and library versions.

    Returns:
        dict: ``cpu_model``, ``cpu_features``, ``logical_cpus``,
        ``usable_cpus`` (the affinity mask), ``torch_threads``,
        ``torch_interop_threads``, ``mkldnn``,
        ``gpu`` (device name or None), ``load_average`` (1, 5, 15 min at
        the start) and ``versions``.
    """
    import torch
    versions = {
        'python': platform.python_version(),
        'torch': torch.__version__
    }
    for name in ('torchvision', 'mmcv', 'mmengine', 'mmdet'):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    gpu = (
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    return dict(
        cpu_model=cpu_model_name(),
        cpu_features=cpu_features(),
        logical_cpus=os.cpu_count(),
        usable_cpus=usable,
        torch_threads=torch.get_num_threads(),
        torch_interop_threads=torch.get_num_interop_threads(),
        mkldnn=bool(torch.backends.mkldnn.is_available()),
        gpu=gpu,
        load_average=[round(x, 2) for x in os.getloadavg()],
        platform=platform.platform(),
        versions=versions)


def matmul_rate(size: int = 2048, repeats: int = 5) -> dict:
    """Measure the fp32 ``torch.mm`` rate of a ``size``\\ :sup:`3` product.

    One untimed product warms the kernels up; the best of ``repeats`` timed
    products is the machine's rate (the least disturbed by other load),
    the median is reported beside it.

    Args:
        size: Side of the square matrices.
        repeats: Timed products.

    Returns:
        dict: ``size``, ``repeats``, ``flops_per_product`` (``2 n^3``),
        ``best_gflops``, ``median_gflops``.
    """
    import torch
    if size < 1 or repeats < 1:
        raise ValueError(f'size and repeats must be >= 1, got {size!r} and '
                         f'{repeats!r}')
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen)
    b = torch.randn(size, size, generator=gen)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        seconds.append(time.perf_counter() - start)
    flops = 2.0 * size**3
    seconds.sort()
    median = seconds[len(seconds) // 2]
    return dict(
        size=size,
        repeats=repeats,
        flops_per_product=flops,
        best_gflops=flops / seconds[0] / 1e9,
        median_gflops=flops / median / 1e9)
