# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Binary ROC curve and its area, in numpy.

Same operating points and tie handling as ``sklearn.metrics.roc_curve``
(one point per distinct score; tied scores move the curve diagonally), so
:func:`roc_auc` equals ``sklearn.metrics.roc_auc_score``.
"""
from __future__ import annotations

import math

import numpy as np


def _check_binary(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert ``scores`` (N,) and 0/1 ``labels`` (N,)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 1 or labels.ndim != 1:
        raise ValueError('scores and labels must be 1-D, got shapes '
                         f'{scores.shape!r} and {labels.shape!r}')
    if scores.shape != labels.shape:
        raise ValueError('scores and labels must have the same length, got '
                         f'{scores.shape[0]!r} and {labels.shape[0]!r}')
    if not np.all(np.isfinite(scores)):
        bad = scores[~np.isfinite(scores)]
        raise ValueError(f'scores must be finite, got {bad[:5]!r}')
    if labels.dtype == bool:
        labels = labels.astype(np.int64)
    if not np.all((labels == 0) | (labels == 1)):
        bad = np.unique(labels[(labels != 0) & (labels != 1)])
        raise ValueError(f'labels must be 0 or 1, got {bad[:5]!r}')
    return scores, labels.astype(np.int64)


def roc_curve(
    scores,
    labels,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compute the ROC curve of one binary problem.

    Args:
        scores: (N,) scores, higher means more likely positive.
        labels: (N,) ground truth, 0 or 1 (or bool).
        drop_intermediate: Drop points on straight segments, which do not
            change the curve or its area (as sklearn does by default).

    Returns:
        ``(fpr, tpr, thresholds)``, each (K,), with increasing ``fpr`` and
        ``tpr``. Point ``i`` predicts positive where
        ``score >= thresholds[i]``; the first point is ``(0, 0)`` with
        threshold ``inf``.

    Raises:
        ValueError: if the inputs are malformed, or if ``labels`` has no
            positive or no negative (the curve is then undefined).

    Example:
        >>> fpr, tpr, thr = roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    scores, labels = _check_binary(scores, labels)
    num_pos = int(labels.sum())
    num_neg = int(labels.size - num_pos)
    if num_pos == 0 or num_neg == 0:
        raise ValueError('ROC curve needs both positives and negatives, got '
                         f'{num_pos!r} positives and {num_neg!r} negatives')
    order = np.argsort(-scores, kind='mergesort')
    scores = scores[order]
    labels = labels[order]
    # the last index of each run of equal scores is an operating point
    distinct = np.flatnonzero(np.diff(scores))
    last = np.r_[distinct, labels.size - 1]
    tps = np.cumsum(labels)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    thresholds = scores[last]
    if drop_intermediate and tps.size > 2:
        keep = np.r_[True,
                     np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        keep = np.flatnonzero(keep)
        tps, fps, thresholds = tps[keep], fps[keep], thresholds[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / num_neg, tps / num_pos, thresholds


def auc_from_curve(fpr, tpr) -> float:
    """Area under a curve given by increasing ``fpr`` (K,) and ``tpr`` (K,),
    by the trapezoidal rule."""
    fpr = np.asarray(fpr, dtype=np.float64)
    tpr = np.asarray(tpr, dtype=np.float64)
    if fpr.shape != tpr.shape or fpr.ndim != 1:
        raise ValueError('fpr and tpr must be 1-D of the same length, got '
                         f'{fpr.shape!r} and {tpr.shape!r}')
    if np.any(np.diff(fpr) < 0):
        raise ValueError(f'fpr must be non-decreasing, got {fpr!r}')
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve of one binary problem.

    Equals ``sklearn.metrics.roc_auc_score(labels, scores)``, ties included.

    Args:
        scores: (N,) scores, higher means more likely positive.
        labels: (N,) ground truth, 0 or 1 (or bool).

    Returns:
        The AUC in [0, 1], or ``nan`` when ``labels`` has no positive or no
        negative (AUC undefined; never reported as 0.5).

    Example:
        >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        0.75
        >>> import math
        >>> math.isnan(roc_auc([0.2, 0.3], [1, 1]))
        True
    """
    scores, labels = _check_binary(scores, labels)
    num_pos = int(labels.sum())
    if num_pos == 0 or num_pos == labels.size:
        return math.nan
    fpr, tpr, _ = roc_curve(scores, labels, drop_intermediate=False)
    return auc_from_curve(fpr, tpr)
