# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .dense_heads import (ClassWeightedSSDHead, count_instances_per_class,
                          inverse_frequency_weights)
from .test_time_augs import CXRWBFEnsemble

__all__ = [
    'ClassWeightedSSDHead', 'count_instances_per_class',
    'inverse_frequency_weights', 'CXRWBFEnsemble'
]
