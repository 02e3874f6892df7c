# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .cxr_voc import CXRVOCDataset, parse_voc_xml
from .samplers import CXRBalancedSampler
from .transforms import CXRLoadImageFromFile

__all__ = [
    'CXRVOCDataset', 'parse_voc_xml', 'CXRBalancedSampler',
    'CXRLoadImageFromFile'
]
