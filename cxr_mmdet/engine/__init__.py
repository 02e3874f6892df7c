# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .hooks import (CheckpointAfterValHook, CheckpointMetricsHook,
                    ClassWeightHook, RNGStateHook, ROCCurveHook)
from .optim_wrappers import BF16OptimWrapper, cpu_bf16_supported

__all__ = [
    'CheckpointAfterValHook', 'CheckpointMetricsHook', 'ClassWeightHook',
    'RNGStateHook', 'ROCCurveHook', 'BF16OptimWrapper',
    'cpu_bf16_supported'
]
