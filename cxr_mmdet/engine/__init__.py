# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .hooks import CheckpointMetricsHook, ClassWeightHook, ROCCurveHook

__all__ = ['CheckpointMetricsHook', 'ClassWeightHook', 'ROCCurveHook']
