# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .auc_resampled import auc_resampled
from .coco_resampled import coco_ap_resampled, coco_matches
from .froc import (FROC_FP_RATES, box_iou, froc_entries, froc_score,
                   match_detections, sensitivity_at)
from .froc_resampled import froc_resampled
from .group_bootstrap import (BOOTSTRAP_SEED, group_resample_weights,
                              percentile_interval)
from .image_scores import image_class_scores, image_score_matrix
from .ranked_counts import cumulative_weights, precision_envelope
from .voc_resampled import voc_ap_resampled, voc_matches

__all__ = [
    'FROC_FP_RATES', 'box_iou', 'froc_entries', 'froc_score',
    'match_detections', 'sensitivity_at', 'image_class_scores',
    'image_score_matrix', 'auc_resampled', 'coco_ap_resampled',
    'coco_matches', 'froc_resampled', 'BOOTSTRAP_SEED',
    'group_resample_weights', 'percentile_interval', 'cumulative_weights',
    'precision_envelope', 'voc_ap_resampled', 'voc_matches'
]
