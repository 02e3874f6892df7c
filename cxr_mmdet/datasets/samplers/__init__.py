# Copyright (c) cxr_mmdet contributors. All rights reserved.
from ..image_labels import image_labels_from_dataset
from .cxr_balanced_sampler import CXRBalancedSampler, image_sampling_weights
from .sampler_balance import (max_min_ratio, sampled_class_frequencies,
                              sampler_balance_report)

__all__ = [
    'CXRBalancedSampler', 'image_labels_from_dataset',
    'image_sampling_weights', 'max_min_ratio', 'sampled_class_frequencies',
    'sampler_balance_report'
]
