# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .class_weighted_ssd_head import (INVERSE_FREQUENCY, ClassWeightedSSDHead,
                                      count_instances_per_class,
                                      count_instances_per_image,
                                      expected_instances_per_class,
                                      inverse_frequency_weights)

__all__ = [
    'ClassWeightedSSDHead', 'INVERSE_FREQUENCY', 'count_instances_per_class',
    'count_instances_per_image', 'expected_instances_per_class',
    'inverse_frequency_weights'
]
