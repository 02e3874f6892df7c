# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .dense_heads import (ClassWeightedSSDHead, count_instances_per_class,
                          inverse_frequency_weights)

__all__ = [
    'ClassWeightedSSDHead', 'count_instances_per_class',
    'inverse_frequency_weights'
]
