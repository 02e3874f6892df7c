# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image-level ROC AUC of image resamples, all at once.

A resample weighs image ``i`` by its multiplicity ``w_i``; its AUC is that
of the resample's images (``sklearn.metrics.roc_auc_score`` with
``sample_weight=w``): the weighted share of (positive, negative) pairs
ranked correctly, ties counting one half.
"""
from __future__ import annotations

import numpy as np


def auc_resampled(scores, targets, weights) -> np.ndarray:
    """AUC of each class in each resample.

    Args:
        scores: (N, C) image-level class scores.
        targets: (N, C) 0/1 image labels.
        weights: (B, N) multiplicity of each image.

    Returns:
        (B, C) AUC; ``nan`` where a resample holds no positive or no
        negative image of the class.

    Example:
        >>> auc_resampled([[0.9], [0.4], [0.5]], [[1], [0], [1]],
        ...               [[1, 1, 1], [1, 1, 0], [0, 1, 2]]).ravel().tolist()
        [1.0, 1.0, 1.0]
    """
    scores = np.asarray(scores, np.float64)
    targets = np.asarray(targets)
    weights = np.atleast_2d(np.asarray(weights, np.float64))
    if scores.ndim != 2 or scores.shape != targets.shape or \
            weights.shape[1] != scores.shape[0]:
        raise ValueError(
            'scores and targets must be (N, C) and weights (B, N), got '
            f'{scores.shape!r}, {targets.shape!r} and {weights.shape!r}')
    out = np.full((weights.shape[0], scores.shape[1]), np.nan)
    for c in range(scores.shape[1]):
        order = np.argsort(scores[:, c], kind='mergesort')
        ranked = scores[order, c]
        starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
        positive = targets[order, c] > 0
        w = weights[:, order]
        # per tied-score block: positive and negative weight
        pos = np.add.reduceat(w * positive, starts, axis=1)
        neg = np.add.reduceat(w * ~positive, starts, axis=1)
        neg_below = np.cumsum(neg, axis=1) - neg
        num_pos, num_neg = pos.sum(axis=1), neg.sum(axis=1)
        pairs = (pos * (neg_below + 0.5 * neg)).sum(axis=1)
        ok = (num_pos > 0) & (num_neg > 0)
        out[ok, c] = pairs[ok] / (num_pos[ok] * num_neg[ok])
    return out
