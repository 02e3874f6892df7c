# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""How fast and how big: interleaved timing of competing steps, FLOP
counts, profiles, the machine and its matmul ceilings, peak memory.

Peak memory is measured in a fresh Python process each time (the peak
resident set of a process only grows): :class:`MemoryChild` starts one
that calls :func:`measure_peak_rss`. The peak is ``VmHWM`` of
``/proc/self/status``, not ``getrusage``'s ``ru_maxrss``: on Linux a child
started by a large parent reports the parent's peak in ``ru_maxrss``,
while ``VmHWM`` belongs to the child's own memory map (``ru_maxrss`` is
the fallback where ``/proc`` is absent).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
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
    return _cpuinfo('model name') or platform.processor() or \
        platform.machine()


def _cpuinfo(key: str) -> str | None:
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith(key):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return None


#: CPU features that set the fp32/bf16 maths rate, reported when present.
CPU_FEATURES = ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'amx_tile')


def cpu_features() -> list[str]:
    """The :data:`CPU_FEATURES` the CPU reports (``/proc/cpuinfo``)."""
    flags = set((_cpuinfo('flags') or '').split())
    return [x for x in CPU_FEATURES if x in flags]


def describe_machine() -> dict:
    """CPU model and features, core and thread counts, load, GPU and the
    library versions of mmdet's ``collect_env``.

    Returns:
        dict: ``cpu_model``, ``cpu_features``, ``logical_cpus``,
        ``usable_cpus`` (the affinity mask), ``torch_threads``,
        ``torch_interop_threads``, ``gpu`` (device name or None),
        ``load_average`` (1, 5, 15 min at the start), ``platform`` and
        ``env`` (``collect_env`` minus torch's build details).
    """
    import torch
    from mmdet.utils import collect_env
    env = {
        k: str(v)
        for k, v in collect_env().items()
        if k not in ('PyTorch compiling details', 'numpy_random_seed')
    }
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
        gpu=gpu,
        load_average=[round(x, 2) for x in os.getloadavg()],
        platform=platform.platform(),
        env=env)


#: Matmul precisions: name -> torch dtype name.
PRECISIONS = {'fp32': 'float32', 'bf16': 'bfloat16'}


def matmul_rate(size: int = 4096,
                repeats: int = 5,
                precision: str = 'fp32') -> dict:
    """The ``torch.mm`` rate of a ``size``\\ :sup:`3` product in
    ``precision`` (``'fp32'`` or ``'bf16'``), the ceiling of the dense
    maths in that precision.

    One untimed product warms the kernels up; the best of ``repeats``
    timed products is the rate (the least disturbed by other load), the
    median is reported beside it.

    Returns:
        dict: ``size``, ``precision``, ``repeats``, ``flops_per_product``
        (``2 n^3``), ``best_gflops``, ``median_gflops``.
    """
    import torch
    if size < 1 or repeats < 1:
        raise ValueError(f'size and repeats must be >= 1, got {size!r} and '
                         f'{repeats!r}')
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {list(PRECISIONS)!r}, '
                         f'got {precision!r}')
    dtype = getattr(torch, PRECISIONS[precision])
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen).to(dtype)
    b = torch.randn(size, size, generator=gen).to(dtype)
    out = torch.empty(size, size, dtype=dtype)
    torch.mm(a, b, out=out)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        seconds.append(time.perf_counter() - start)
    flops = 2.0 * size**3
    return dict(
        size=size,
        precision=precision,
        repeats=repeats,
        flops_per_product=flops,
        best_gflops=flops / min(seconds) / 1e9,
        median_gflops=flops / statistics.median(seconds) / 1e9)


#: The modes a step can run in.
MODES = ('train', 'infer')


def _max_rss_mb() -> float:
    """Peak resident set of this process so far, MiB."""
    try:
        with open('/proc/self/status', encoding='ascii') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    # Linux reports ru_maxrss in KiB, macOS in bytes
    scale = 1.0 if sys.platform == 'darwin' else 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def measure_peak_rss(variant: str,
                     mode: str,
                     config: str,
                     batch_size: int = 8,
                     steps: int = 2) -> dict:
    """Build one detector variant and run ``steps`` steps in *this*
    process (call it in a fresh one: the peak includes everything
    before).

    Returns:
        dict: ``peak_rss_mb`` (after the steps), ``before_steps_mb`` (peak
        after imports and model building) and ``step_mb`` (the growth the
        steps caused; the second training step has the SGD momentum
        buffers in place).
    """
    from .detectors import VARIANTS, build_detectors, synthetic_batch
    if variant not in VARIANTS or mode not in MODES:
        raise ValueError(f'variant must be one of {list(VARIANTS)!r} and '
                         f'mode one of {MODES!r}, got {variant!r}, {mode!r}')
    detector = build_detectors(config, synthetic_batch(batch_size),
                               (variant, ))[variant]
    before = _max_rss_mb()
    step = detector.train_step if mode == 'train' else detector.infer_step
    for _ in range(steps):
        step()
    peak = _max_rss_mb()
    return dict(
        peak_rss_mb=peak, before_steps_mb=before, step_mb=peak - before)


#: Marks the child's answer line on its stdout.
ANSWER = 'CXR_BENCH '


class MemoryChild:
    """A fresh interpreter running :func:`measure_peak_rss` for one
    ``(variant, mode)``; :meth:`result` waits for its figures.

    The child uses this interpreter and torch thread count, and finds
    ``cxr_mmdet`` and this folder's ``benchmarking`` where this process
    found them (``PYTHONPATH``).
    """

    def __init__(self, variant: str, mode: str, config: str,
                 batch_size: int, steps: int) -> None:
        import torch

        import cxr_mmdet
        self.variant, self.mode = variant, mode
        self.batch_size, self.steps = batch_size, steps
        here = osp.dirname(osp.dirname(osp.abspath(__file__)))
        package_root = osp.dirname(osp.dirname(osp.abspath(
            cxr_mmdet.__file__)))
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (here, package_root, env.get('PYTHONPATH')) if p)
        env['OMP_NUM_THREADS'] = str(torch.get_num_threads())
        code = ('import json, sys, logging; '
                'from mmengine.logging import MMLogger; '
                "MMLogger.get_instance('mmengine').setLevel(logging.WARNING);"
                ' from benchmarking.timing_memory import measure_peak_rss; '
                'out = measure_peak_rss(*sys.argv[1:4], int(sys.argv[4]), '
                f'int(sys.argv[5])); print({ANSWER!r} + json.dumps(out))')
        self.proc = subprocess.Popen(
            [
                sys.executable, '-c', code, variant, mode,
                osp.abspath(config),
                str(batch_size),
                str(steps)
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env)

    def result(self, timeout: float = 600) -> dict:
        """The child's figures (with ``variant``, ``mode``,
        ``batch_size``, ``steps``); RuntimeError if it failed."""
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
        lines = [x for x in stdout.splitlines() if x.startswith(ANSWER)]
        if self.proc.returncode != 0 or not lines:
            raise RuntimeError(
                f'memory measurement {self.variant}/{self.mode} failed '
                f'(exit {self.proc.returncode}): {stderr[-2000:]}')
        out: dict[str, Any] = json.loads(lines[-1][len(ANSWER):])
        out.update(
            variant=self.variant,
            mode=self.mode,
            batch_size=self.batch_size,
            steps=self.steps)
        return out


def peak_rss_in_subprocesses(jobs: list[tuple[str, str]],
                             config: str,
                             batch_size: int = 8,
                             steps: int = 2,
                             parallel: int = 1,
                             timeout: float = 600) -> list[dict]:
    """:func:`measure_peak_rss` for each ``(variant, mode)`` job in a
    fresh interpreter, ``parallel`` at a time (a process's peak does not
    depend on what runs beside it); the figures in job order."""
    if parallel < 1:
        raise ValueError(f'parallel must be >= 1, got {parallel!r}')
    results = []
    for first in range(0, len(jobs), parallel):
        children = [
            MemoryChild(variant, mode, config, batch_size, steps)
            for variant, mode in jobs[first:first + parallel]
        ]
        results.extend(child.result(timeout) for child in children)
    return results
