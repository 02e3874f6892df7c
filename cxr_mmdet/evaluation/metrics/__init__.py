# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .cxr_coco_metric import CXRCocoMetric, bbox_results_to_coco
from .cxr_roc_metric import CXRROCMetric
from .cxr_voc_metric import CXRVOCMetric

__all__ = [
    'CXRCocoMetric', 'CXRROCMetric', 'CXRVOCMetric',
    'bbox_results_to_coco'
]
