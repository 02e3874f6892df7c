# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Mixed precision on CPU: the forward under bf16 autocast, fp32 weights.

mmengine's ``AmpOptimWrapper`` refuses to start without CUDA/NPU/MLU/MUSA.
bf16 has fp32's exponent range, so it needs no loss scaler: backward and
step are the fp32 ``OptimWrapper``'s, weights and optimizer state stay
fp32, and the state dict is the fp32 wrapper's (checkpoints of either
wrapper resume with the other).
"""
from __future__ import annotations

import logging
import os.path as osp
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

#: /proc/cpuinfo flags of CPUs with native bf16 arithmetic.
CPU_BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


def cpu_bf16_supported(cpuinfo: str | None = None) -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX-BF16).

    Asks oneDNN (``torch.ops.mkldnn._is_mkldnn_bf16_supported``) where
    torch has it, else reads the flags of ``/proc/cpuinfo``; with a
    ``cpuinfo`` path, reads that file only. Without native support bf16
    autocast is emulated and slower than fp32.
    """
    if cpuinfo is None:
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            cpuinfo = '/proc/cpuinfo'
    if not osp.isfile(cpuinfo):
        return False
    with open(cpuinfo) as f:
        flags = {
            word
            for line in f if line.startswith('flags')
            for word in line.split(':', 1)[1].split()
        }
    return any(flag in flags for flag in CPU_BF16_FLAGS)


def resolve_bf16(enabled: bool | str) -> bool:
    """``True``/``False`` as given; ``'auto'``: :func:`cpu_bf16_supported`,
    logging the fp32 fallback."""
    if isinstance(enabled, bool):
        return enabled
    if enabled != 'auto':
        raise ValueError("BF16OptimWrapper: enabled must be True, False or "
                         f"'auto', got {enabled!r}")
    supported = cpu_bf16_supported()
    if supported:
        print_log(
            'BF16OptimWrapper: this CPU has native bf16, the forward runs '
            "under torch.autocast('cpu', dtype=torch.bfloat16)",
            logger='current', level=logging.INFO)
    else:
        print_log(
            'BF16OptimWrapper: this CPU has no native bf16 (avx512_bf16 / '
            'amx_bf16), training in fp32', logger='current',
            level=logging.WARNING)
    return supported


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward under
    ``torch.autocast('cpu', dtype=torch.bfloat16)``.

    Args:
        enabled (bool | str): ``'auto'`` turns bf16 on where the CPU has
            native bf16 (:func:`cpu_bf16_supported`) and trains in fp32
            elsewhere, with a logged message. Defaults to ``'auto'``.
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, enabled: bool | str = 'auto', **kwargs) -> None:
        super().__init__(**kwargs)
        self.bf16 = resolve_bf16(enabled)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """Gradient-accumulation context of ``OptimWrapper``, plus CPU bf16
        autocast when enabled."""
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16, enabled=self.bf16):
            yield
