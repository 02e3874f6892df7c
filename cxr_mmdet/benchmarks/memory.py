# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Peak resident memory of a training or an inference step.

Each measurement runs in a fresh Python process (the peak resident set of
a process only grows, so two measurements in one process would mix):
:func:`peak_rss_in_subprocess` starts one that calls
:func:`measure_peak_rss` and reads its JSON answer.

The peak is ``VmHWM`` of ``/proc/self/status``, not ``getrusage``'s
``ru_maxrss``: on Linux a child started by a large parent reports the
parent's peak in ``ru_maxrss`` (the fork copies the memory map's
high-water mark and ``exec`` carries it into the child's rusage), while
``VmHWM`` belongs to the child's own memory map. ``ru_maxrss`` is the
fallback where ``/proc`` is absent.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import resource
import subprocess
import sys
from typing import Any

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


def measure_peak_rss(framework: str,
                     mode: str,
                     config: str,
                     batch_size: int = 8,
                     steps: int = 2) -> dict:
    """Build one detector and run ``steps`` steps in *this* process.

    Call it in a fresh process: the peak includes everything before.

    Args:
        framework: ``'plugin'`` or ``'torchvision'``.
        mode: ``'train'`` or ``'infer'``.
        config: Path of the plugin's config.
        batch_size: Images per step.
        steps: Steps run (the second training step has the SGD momentum
            buffers in place).

    Returns:
        dict: ``peak_rss_mb`` (after the steps), ``before_steps_mb`` (peak
        after imports and model building) and ``step_mb`` (the growth the
        steps caused).
    """
    from .detectors import (FRAMEWORKS, build_plugin_detector,
                            build_torchvision_detector)
    from .synthetic import synthetic_batch
    if framework not in FRAMEWORKS or mode not in MODES:
        raise ValueError(f'framework must be one of {FRAMEWORKS!r} and mode '
                         f'one of {MODES!r}, got {framework!r}, {mode!r}')
    batch = synthetic_batch(batch_size)
    if framework == 'plugin':
        detector = build_plugin_detector(config, batch)
    else:
        detector = build_torchvision_detector(batch)
    before = _max_rss_mb()
    step = detector.train_step if mode == 'train' else detector.infer_step
    for _ in range(steps):
        step()
    peak = _max_rss_mb()
    return dict(
        peak_rss_mb=peak, before_steps_mb=before, step_mb=peak - before)


def _child_command(framework: str, mode: str, config: str, batch_size: int,
                   steps: int) -> tuple[list, dict]:
    import torch
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (root, env.get('PYTHONPATH')) if p)
    env['OMP_NUM_THREADS'] = str(torch.get_num_threads())
    code = ('import json, sys, logging; '
            'from mmengine.logging import MMLogger; '
            "MMLogger.get_instance('mmengine').setLevel(logging.WARNING); "
            'from cxr_mmdet.benchmarks.memory import measure_peak_rss; '
            'out = measure_peak_rss(*sys.argv[1:4], int(sys.argv[4]), '
            'int(sys.argv[5])); '
            "print('CXR_BENCH ' + json.dumps(out))")
    args = [
        sys.executable, '-c', code, framework, mode,
        osp.abspath(config),
        str(batch_size),
        str(steps)
    ]
    return args, env


class MemoryChild:
    """A fresh interpreter running :func:`measure_peak_rss` for one
    ``(framework, mode)``; :meth:`result` waits for its figures."""

    def __init__(self, framework: str, mode: str, config: str, batch_size: int,
                 steps: int) -> None:
        self.framework, self.mode = framework, mode
        self.batch_size, self.steps = batch_size, steps
        args, env = _child_command(framework, mode, config, batch_size, steps)
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env)

    def result(self, timeout: float = 600) -> dict:
        """The child's figures (with ``framework``, ``mode``,
        ``batch_size``, ``steps``); RuntimeError if it failed."""
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            stdout, stderr = self.proc.communicate()
        lines = [
            line for line in stdout.splitlines()
            if line.startswith('CXR_BENCH ')
        ]
        if self.proc.returncode != 0 or not lines:
            raise RuntimeError(
                f'memory measurement {self.framework}/{self.mode} failed '
                f'(exit {self.proc.returncode}): {stderr[-2000:]}')
        out: dict[str, Any] = json.loads(lines[-1][len('CXR_BENCH '):])
        out.update(
            framework=self.framework,
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
    """Run :func:`measure_peak_rss` for each ``(framework, mode)`` job in
    a fresh interpreter (:class:`MemoryChild`), ``parallel`` at a time (a
    process's peak does not depend on what runs beside it), and return
    their figures in job order.

    The children use this interpreter and this process's torch thread
    count, and find ``cxr_mmdet`` where this process found it.
    """
    if parallel < 1:
        raise ValueError(f'parallel must be >= 1, got {parallel!r}')
    results = []
    for first in range(0, len(jobs), parallel):
        children = [
            MemoryChild(framework, mode, config, batch_size, steps)
            for framework, mode in jobs[first:first + parallel]
        ]
        results.extend(child.result(timeout) for child in children)
    return results


def peak_rss_in_subprocess(framework: str,
                           mode: str,
                           config: str,
                           batch_size: int = 8,
                           steps: int = 2,
                           timeout: float = 600) -> dict:
    """One :func:`peak_rss_in_subprocesses` job."""
    return peak_rss_in_subprocesses([(framework, mode)], config, batch_size,
                                    steps, 1, timeout)[0]
