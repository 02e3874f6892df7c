# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .froc import (FROC_FP_RATES, box_iou, froc_score, match_detections,
                   sensitivity_at)
from .image_scores import image_class_scores, image_score_matrix

__all__ = [
    'FROC_FP_RATES', 'box_iou', 'froc_score', 'match_detections',
    'sensitivity_at', 'image_class_scores', 'image_score_matrix'
]
