# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .functional import (FROC_FP_RATES, froc_score, image_class_scores,
                         image_score_matrix)
from .metric_intervals import (bootstrap_intervals, metrics_by_source,
                               resampled_metrics)
from .metrics import (CXRCocoMetric, CXRROCMetric, CXRVOCMetric,
                      bbox_results_to_coco)

__all__ = [
    'FROC_FP_RATES', 'froc_score', 'image_class_scores',
    'image_score_matrix', 'CXRCocoMetric', 'CXRROCMetric', 'CXRVOCMetric',
    'bbox_results_to_coco', 'bootstrap_intervals', 'metrics_by_source',
    'resampled_metrics'
]
