# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""How closely two backends' detections of one image agree."""
from __future__ import annotations

import numpy as np


def top_k_agreement(ref, other, k: int = 10) -> tuple[float, float]:
    """Match each of ``ref``'s ``k`` best detections to the detection of
    ``other`` of the same class with the highest IoU (mmdet's
    ``bbox_overlaps``).

    Args:
        ref, other (Detections): one image's detections.

    Returns:
        tuple: the worst of those IoUs (1.0 when ``ref`` has none; 0.0 when
        ``other`` lacks a class) and the largest score difference between
        a detection and its match.
    """
    import torch
    from mmdet.structures.bbox import bbox_overlaps
    top = ref.top(k)
    if not len(top.boxes):
        return 1.0, 0.0
    if not len(other.boxes):
        return 0.0, float(top.scores.max())
    ious = bbox_overlaps(
        torch.from_numpy(top.boxes), torch.from_numpy(other.boxes)).numpy()
    ious = np.where(top.labels[:, None] == other.labels[None, :], ious, -1.0)
    best = ious.argmax(1)
    worst_iou = max(0.0, float(ious.max(1).min()))
    return worst_iou, float(np.abs(top.scores - other.scores[best]).max())
