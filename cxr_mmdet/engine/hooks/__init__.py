# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .checkpoint_after_val_hook import CheckpointAfterValHook
from .checkpoint_metrics_hook import CheckpointMetricsHook
from .class_weight_hook import ClassWeightHook
from .rng_state_hook import RNGStateHook
from .roc_curve_hook import ROCCurveHook

__all__ = [
    'CheckpointAfterValHook', 'CheckpointMetricsHook', 'ClassWeightHook',
    'RNGStateHook', 'ROCCurveHook'
]
