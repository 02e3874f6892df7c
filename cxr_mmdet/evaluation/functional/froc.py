# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Free-response ROC (FROC): lesion sensitivity against false positives per
image.

Matching, per image: detections are visited from the highest score down
(stable for ties); each one hits the still-unmatched ground-truth box of its
own class with the highest IoU, if that IoU is at least ``iou_thr``
(default 0.4), else it is a false positive. Because higher scores are
matched first, the matching at any score threshold is a prefix of this one.

Over all images, keeping the detections with ``score >= t`` gives one
operating point per distinct score ``t``: sensitivity = hits / lesions and
FPs per image = false positives / images. The sensitivity at a rate ``r``
is that of the lowest threshold whose FPs per image stay ``<= r`` (0 when
even the highest-scoring detections exceed it). FROC is the mean
sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 FPs per image.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: False positives per image at which sensitivity is read.
FROC_FP_RATES: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def _as_boxes(boxes, what: str, check_order: bool = True) -> np.ndarray:
    """Convert to an (K, 4) float64 array of ``x1, y1, x2, y2`` boxes."""
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f'{what} must have shape (K, 4), got '
                         f'{boxes.shape!r}')
    if not np.all(np.isfinite(boxes)):
        raise ValueError(f'{what} must be finite, got {boxes!r}')
    bad = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if check_order and np.any(bad):
        raise ValueError(f'{what} need x2 >= x1 and y2 >= y1, got '
                         f'{boxes[bad][:3]!r}')
    return boxes


def _as_vector(values, length: int, what: str, dtype) -> np.ndarray:
    """Convert to a (length,) array, checking the length."""
    values = np.asarray(values, dtype=dtype).reshape(-1)
    if values.shape[0] != length:
        raise ValueError(f'{what} must have {length} entries (one per box), '
                         f'got {values.shape[0]!r}')
    return values


def box_iou(boxes1, boxes2) -> np.ndarray:
    """IoU of every pair of ``x1, y1, x2, y2`` boxes (continuous
    coordinates, area = width * height).

    Args:
        boxes1: (M, 4) boxes.
        boxes2: (K, 4) boxes.

    Returns:
        (M, K) IoU; 0 where the union is empty.

    Example:
        >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [4, 4, 5, 5]]).tolist()
        [[0.3333333333333333, 0.0]]
    """
    b1 = _as_boxes(boxes1, 'boxes1', check_order=False)
    b2 = _as_boxes(boxes2, 'boxes2', check_order=False)
    # an inverted box (x2 < x1) has no area and overlaps nothing
    wh1 = np.clip(b1[:, 2:] - b1[:, :2], 0, None)
    wh2 = np.clip(b2[:, 2:] - b2[:, :2], 0, None)
    area1 = wh1[:, 0] * wh1[:, 1]
    area2 = wh2[:, 0] * wh2[:, 1]
    lt = np.maximum(b1[:, None, :2], b2[None, :, :2])
    rb = np.minimum(b1[:, None, 2:], b2[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def match_detections(pred_bboxes,
                     pred_scores,
                     pred_labels,
                     gt_bboxes,
                     gt_labels,
                     iou_thr: float = 0.4) -> np.ndarray:
    """Greedy matching of one image's detections to its lesions.

    Args:
        pred_bboxes: (K, 4) detected boxes ``x1, y1, x2, y2``.
        pred_scores: (K,) detection scores.
        pred_labels: (K,) detection class indices.
        gt_bboxes: (G, 4) ground-truth boxes.
        gt_labels: (G,) ground-truth class indices.
        iou_thr: Minimum IoU of a hit.

    Returns:
        (K,) bool, True where the detection hits a lesion (in the input
        order of the detections).

    Example:
        >>> match_detections([[0, 0, 10, 10], [0, 0, 10, 9]], [0.5, 0.9],
        ...                  [1, 1], [[0, 0, 10, 10]], [1]).tolist()
        [False, True]
    """
    # a degenerate predicted box is a miss, not an error (no crash at the
    # end of a validation); ground truth must be well formed
    pred_bboxes = _as_boxes(pred_bboxes, 'pred_bboxes', check_order=False)
    num_pred = pred_bboxes.shape[0]
    pred_scores = _as_vector(pred_scores, num_pred, 'pred_scores', np.float64)
    pred_labels = _as_vector(pred_labels, num_pred, 'pred_labels', np.int64)
    gt_bboxes = _as_boxes(gt_bboxes, 'gt_bboxes')
    gt_labels = _as_vector(gt_labels, gt_bboxes.shape[0], 'gt_labels',
                           np.int64)
    if not 0 < iou_thr <= 1:
        raise ValueError(f'iou_thr must lie in (0, 1], got {iou_thr!r}')
    hits = np.zeros(num_pred, dtype=bool)
    if num_pred == 0 or gt_bboxes.shape[0] == 0:
        return hits
    iou = box_iou(pred_bboxes, gt_bboxes)
    iou[pred_labels[:, None] != gt_labels[None, :]] = -1.0
    matched = np.zeros(gt_bboxes.shape[0], dtype=bool)
    order = np.argsort(-pred_scores, kind='mergesort')
    # a detection that overlaps no lesion enough is an FP whatever the
    # order: only visit the others
    order = order[iou[order].max(axis=1) >= iou_thr]
    for i in order:
        candidates = np.where(matched, -1.0, iou[i])
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_thr:
            matched[j] = True
            hits[i] = True
    return hits


def _check_lists(pred_bboxes: Sequence, pred_scores: Sequence,
                 pred_labels: Sequence, gt_bboxes: Sequence,
                 gt_labels: Sequence) -> int:
    """Check that all per-image lists have the same, non-zero length."""
    lengths = [
        len(x)
        for x in (pred_bboxes, pred_scores, pred_labels, gt_bboxes, gt_labels)
    ]
    if len(set(lengths)) != 1:
        raise ValueError('pred_bboxes, pred_scores, pred_labels, gt_bboxes '
                         'and gt_labels must list the same images, got '
                         f'lengths {lengths!r}')
    if lengths[0] == 0:
        raise ValueError('FROC needs at least one image, got 0')
    return lengths[0]


def froc_curve(
    pred_bboxes: Sequence,
    pred_scores: Sequence,
    pred_labels: Sequence,
    gt_bboxes: Sequence,
    gt_labels: Sequence,
    iou_thr: float = 0.4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FROC curve over N images.

    Args:
        pred_bboxes: N arrays (K_i, 4) of detected boxes.
        pred_scores: N arrays (K_i,) of scores.
        pred_labels: N arrays (K_i,) of class indices.
        gt_bboxes: N arrays (G_i, 4) of lesion boxes.
        gt_labels: N arrays (G_i,) of lesion class indices.
        iou_thr: Minimum IoU of a hit.

    Returns:
        ``(fp_per_image, sensitivity, thresholds)``, each (P,), one point per
        distinct score from the highest down, after a first point
        ``(0, 0, inf)`` (nothing detected).

    Raises:
        ValueError: on malformed input or when there is no lesion at all.
    """
    num_images = _check_lists(pred_bboxes, pred_scores, pred_labels, gt_bboxes,
                              gt_labels)
    all_scores, all_hits = [], []
    num_lesions = 0
    for i in range(num_images):
        hits = match_detections(pred_bboxes[i], pred_scores[i], pred_labels[i],
                                gt_bboxes[i], gt_labels[i], iou_thr)
        all_hits.append(hits)
        all_scores.append(
            np.asarray(pred_scores[i], dtype=np.float64).reshape(-1))
        num_lesions += _as_boxes(gt_bboxes[i], 'gt_bboxes').shape[0]
    if num_lesions == 0:
        raise ValueError(f'FROC needs at least one lesion, got 0 in '
                         f'{num_images} images')
    scores = np.concatenate(all_scores)
    hits = np.concatenate(all_hits)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f'pred_scores must be finite, got {scores[:5]!r}')
    order = np.argsort(-scores, kind='mergesort')
    scores, hits = scores[order], hits[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    last = last[last >= 0]
    tps = np.cumsum(hits)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    fp_per_image = np.r_[0.0, fps / num_images]
    sensitivity = np.r_[0.0, tps / num_lesions]
    thresholds = np.r_[np.inf, scores[last]]
    return fp_per_image, sensitivity, thresholds


def sensitivity_at(fp_per_image,
                   sensitivity,
                   fp_rates: Sequence[float] = FROC_FP_RATES) -> np.ndarray:
    """Read a FROC curve at the given FP-per-image rates.

    Args:
        fp_per_image: (P,) non-decreasing FPs per image of the points.
        sensitivity: (P,) non-decreasing sensitivity of the points.
        fp_rates: (R,) rates to read at.

    Returns:
        (R,) the highest sensitivity among points with FPs per image
        ``<= rate``, 0 where there is none.

    Example:
        >>> sensitivity_at([0, 0.5, 1, 3], [0, 0.4, 0.5, 0.9], [0.25, 1, 8])
        array([0. , 0.5, 0.9])
    """
    fp_per_image = np.asarray(fp_per_image, dtype=np.float64)
    sensitivity = np.asarray(sensitivity, dtype=np.float64)
    if fp_per_image.shape != sensitivity.shape or fp_per_image.ndim != 1:
        raise ValueError('fp_per_image and sensitivity must be 1-D of the '
                         f'same length, got {fp_per_image.shape!r} and '
                         f'{sensitivity.shape!r}')
    out = np.zeros(len(fp_rates), dtype=np.float64)
    for k, rate in enumerate(fp_rates):
        ok = fp_per_image <= rate
        if np.any(ok):
            out[k] = sensitivity[ok].max()
    return out


def froc_score(pred_bboxes: Sequence,
               pred_scores: Sequence,
               pred_labels: Sequence,
               gt_bboxes: Sequence,
               gt_labels: Sequence,
               fp_rates: Sequence[float] = FROC_FP_RATES,
               iou_thr: float = 0.4) -> dict:
    """Lesion sensitivity at ``fp_rates`` FPs per image and their mean.

    Args are those of :func:`froc_curve`, plus ``fp_rates`` (R,).

    Returns:
        dict with ``froc`` (float, mean sensitivity), ``sensitivities`` (R,)
        array, ``fp_rates`` tuple, ``num_lesions``, ``num_images`` and the
        curve (``fp_per_image``, ``sensitivity``, ``thresholds``). With no
        lesion at all, ``froc`` and ``sensitivities`` are ``nan``.

    Example:
        >>> out = froc_score([[[0, 0, 4, 4]]], [[0.9]], [[0]],
        ...                  [[[0, 0, 4, 4]]], [[0]])
        >>> out['froc'], out['num_lesions']
        (1.0, 1)
    """
    if len(fp_rates) == 0 or any(r <= 0 for r in fp_rates):
        raise ValueError(f'fp_rates must be positive, got {fp_rates!r}')
    num_images = _check_lists(pred_bboxes, pred_scores, pred_labels, gt_bboxes,
                              gt_labels)
    num_lesions = sum(_as_boxes(b, 'gt_bboxes').shape[0] for b in gt_bboxes)
    out = dict(
        fp_rates=tuple(float(r) for r in fp_rates),
        num_lesions=int(num_lesions),
        num_images=int(num_images))
    if num_lesions == 0:
        out.update(
            froc=math.nan,
            sensitivities=np.full(len(fp_rates), math.nan),
            fp_per_image=np.zeros(1),
            sensitivity=np.zeros(1),
            thresholds=np.full(1, np.inf))
        return out
    fppi, sens, thr = froc_curve(pred_bboxes, pred_scores, pred_labels,
                                 gt_bboxes, gt_labels, iou_thr)
    sens_at = sensitivity_at(fppi, sens, fp_rates)
    out.update(
        froc=float(sens_at.mean()),
        sensitivities=sens_at,
        fp_per_image=fppi,
        sensitivity=sens,
        thresholds=thr)
    return out
