# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fixes for known defects of the pinned upstream stack.

Each fix is small, documented and tested; importing :mod:`cxr_mmdet` applies
them. They are written so that they do nothing on versions without the
defect.
"""
from .atomic_checkpoint import install_atomic_checkpoint_save
from .checkpoint_allowlist import (CHECKPOINT_SAFE_GLOBALS,
                                   UnsafeCheckpointError,
                                   install_checkpoint_allowlist)
from .cpu_distributed import cpu_distributed_cfg, install_cpu_distributed
from .ssd_head_fp32 import install_ssd_head_fp32
from .ssd_head_predict import install_ssd_head_predict_fix
from .torchvision_nms import install_torchvision_nms, restore_mmcv_nms
from .versions import check_versions

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'UnsafeCheckpointError',
    'install_checkpoint_allowlist',
    'install_ssd_head_predict_fix', 'install_atomic_checkpoint_save',
    'check_versions', 'install_cpu_distributed', 'cpu_distributed_cfg',
    'install_torchvision_nms', 'restore_mmcv_nms', 'install_ssd_head_fp32'
]
