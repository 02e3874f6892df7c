# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .channels_last_hook import ChannelsLastHook, to_channels_last
from .checkpoint_after_val_hook import CheckpointAfterValHook
from .checkpoint_metrics_hook import CheckpointMetricsHook
from .class_weight_hook import ClassWeightHook
from .operating_points_hook import OperatingPointsHook
from .rng_state_hook import RNGStateHook
from .roc_curve_hook import ROCCurveHook

__all__ = [
    'ChannelsLastHook', 'CheckpointAfterValHook', 'CheckpointMetricsHook',
    'ClassWeightHook', 'OperatingPointsHook', 'RNGStateHook',
    'ROCCurveHook', 'to_channels_last'
]
