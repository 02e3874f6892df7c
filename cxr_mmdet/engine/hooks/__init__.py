# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .checkpoint_metrics_hook import CheckpointMetricsHook
from .class_weight_hook import ClassWeightHook
from .roc_curve_hook import ROCCurveHook

__all__ = ['CheckpointMetricsHook', 'ClassWeightHook', 'ROCCurveHook']
