# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .hooks import (CheckpointAfterValHook, CheckpointMetricsHook,
                    ClassWeightHook, RNGStateHook, ROCCurveHook)

__all__ = [
    'CheckpointAfterValHook', 'CheckpointMetricsHook', 'ClassWeightHook',
    'RNGStateHook', 'ROCCurveHook'
]
