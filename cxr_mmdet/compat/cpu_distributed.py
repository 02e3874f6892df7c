# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Let mmengine's ``launcher='pytorch'`` run on machines without CUDA.

mmengine 0.10.7's ``_init_dist_pytorch`` calls ``torch.cuda.set_device``
unconditionally, which fails on a CPU-only machine before the process group
exists, and ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to
DDP, which torch refuses for CPU modules. On a machine without CUDA the
replacement below initialises the process group with gloo and skips
``set_device``; :func:`cpu_distributed_cfg` gives the matching config
settings (gloo backend, ``device_ids=None``). With CUDA nothing changes.
"""
from __future__ import annotations

import os

_ORIGINAL = None


def _init_dist_pytorch_cpu(backend, init_backend='torch', **kwargs) -> None:
    import torch
    import torch.distributed as torch_dist
    if torch.cuda.is_available():
        return _ORIGINAL(backend, init_backend=init_backend, **kwargs)
    if backend == 'nccl':
        backend = 'gloo'
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


def install_cpu_distributed() -> bool:
    """Install the CPU-aware ``_init_dist_pytorch`` (idempotent)."""
    global _ORIGINAL
    import mmengine.dist.utils as dist_utils
    if dist_utils._init_dist_pytorch is _init_dist_pytorch_cpu:
        return False
    _ORIGINAL = dist_utils._init_dist_pytorch
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu
    return True


def cpu_distributed_cfg(cfg) -> bool:
    """Adapt a distributed config to CPU when CUDA is unavailable.

    Returns:
        bool: True if the config was changed.
    """
    import torch
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return False
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
