# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fuse the detections of several models and flipped views of one image
with Weighted Box Fusion (``ensemble_boxes.weighted_boxes_fusion``), as the
VinBigData winners did, instead of mmdet's NMS-based TTA merge."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .detections import Detections

#: The VinBigData winners' WBF IoU threshold.
WBF_IOU_THR = 0.4


def fuse_detections(views: Sequence[Detections],
                    width: float,
                    height: float,
                    iou_thr: float = WBF_IOU_THR,
                    skip_thr: float = 0.0,
                    weights: Sequence[float] | None = None,
                    max_dets: int | None = None) -> Detections:
    """WBF over ``views`` (one :class:`Detections` per model and view, all
    in one image's ``width`` x ``height`` frame), per class.

    A cluster's box is the score-weighted mean of its boxes, its score the
    mean score times ``min(views in it, number of views) / number of
    views`` (``conf_type='avg'``), so a box only one of two views found
    keeps half its score. Boxes under ``skip_thr`` are dropped first.

    Returns:
        Detections: fused, highest score first, at most ``max_dets``.

    Example (two views agreeing on a box, one seeing another class):
        >>> a = Detections.of([[0, 0, 10, 10]], [0.8], [0])
        >>> b = Detections.of([[2, 0, 12, 10], [50, 50, 60, 60]],
        ...                   [0.4, 0.6], [0, 3])
        >>> fused = fuse_detections([a, b], 100, 100)
        >>> fused.labels.tolist(), [round(float(s), 3) for s in fused.scores]
        ([0, 3], [0.6, 0.3])
        >>> [round(float(v), 3) for v in fused.boxes[0]]  # (.8a + .4b) / 1.2
        [0.667, 0.0, 10.667, 10.0]
    """
    from ensemble_boxes import weighted_boxes_fusion
    if not 0 <= iou_thr <= 1 or not 0 <= skip_thr <= 1:
        raise ValueError('WBF thresholds must be in [0, 1], got iou_thr '
                         f'{iou_thr!r}, skip_thr {skip_thr!r}')
    if not any(len(v.boxes) for v in views):
        return Detections.empty()
    scale = np.array([width, height, width, height], np.float64)
    boxes, scores, labels = weighted_boxes_fusion(
        [np.clip(v.boxes / scale, 0, 1) for v in views],
        [v.scores for v in views], [v.labels for v in views],
        weights=None if weights is None else list(weights),
        iou_thr=iou_thr,
        skip_box_thr=skip_thr)
    return Detections.of(boxes * scale, scores, labels).top(max_dets)
