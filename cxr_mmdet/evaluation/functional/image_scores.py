# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image-level class scores from box detections.

The image-level score of class ``c`` is the highest score of a class-``c``
detection in the image, 0 when the image has none.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def image_class_scores(labels, scores, num_classes: int) -> np.ndarray:
    """Image-level score vector of one image.

    Args:
        labels: (K,) integer class index of each detection.
        scores: (K,) score of each detection.
        num_classes: Number of classes C.

    Returns:
        (C,) float64: per class, the highest detection score, 0 if none.

    Example:
        >>> image_class_scores([0, 2, 0], [0.3, 0.9, 0.6], 3).tolist()
        [0.6, 0.0, 0.9]
    """
    if num_classes <= 0:
        raise ValueError(f'num_classes must be positive, got {num_classes!r}')
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.shape != scores.shape:
        raise ValueError('labels and scores must have the same length, got '
                         f'{labels.shape[0]!r} and {scores.shape[0]!r}')
    out = np.zeros(num_classes, dtype=np.float64)
    if labels.size == 0:
        return out
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f'labels must be integers, got {labels[:5]!r}')
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= num_classes)
    if np.any(bad):
        raise ValueError(f'labels must lie in [0, {num_classes}), got '
                         f'{np.unique(labels[bad])[:5]!r}')
    if not np.all(np.isfinite(scores)):
        raise ValueError(f'scores must be finite, got {scores[:5]!r}')
    # a score of 0 or below never beats "no detection"
    np.maximum.at(out, labels, scores)
    return out


def image_score_matrix(pred_labels: Sequence, pred_scores: Sequence,
                       num_classes: int) -> np.ndarray:
    """Image-level score matrix of N images.

    Args:
        pred_labels: N arrays, each (K_i,), class index per detection.
        pred_scores: N arrays, each (K_i,), score per detection.
        num_classes: Number of classes C.

    Returns:
        (N, C) float64 image-level scores.
    """
    if len(pred_labels) != len(pred_scores):
        raise ValueError('pred_labels and pred_scores must list the same '
                         f'images, got {len(pred_labels)!r} and '
                         f'{len(pred_scores)!r}')
    out = np.zeros((len(pred_labels), num_classes), dtype=np.float64)
    for i, (labels, scores) in enumerate(zip(pred_labels, pred_scores)):
        out[i] = image_class_scores(labels, scores, num_classes)
    return out
