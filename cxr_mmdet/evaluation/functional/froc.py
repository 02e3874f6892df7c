# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Free-response ROC (FROC) as the LUNA16 evaluation script
(``noduleCADEvaluationLUNA16.py``) defines it: lesion sensitivity against
false positives per image.

Hits, per image: a detection hits a lesion (ground-truth box) of its own
class when their IoU is at least ``iou_thr`` (default 0.4; LUNA16: the
candidate lies inside the nodule's radius).

- A lesion is found at threshold ``t`` when a detection with
  ``score >= t`` hits it: it enters the curve once, with the highest score
  of the detections hitting it.
- A detection that hits a lesion is never a false positive; its repeat
  hits (a lesion already hit by a higher-scoring detection) are ignored.
  A detection hitting several lesions finds each of them (LUNA16 keeps it
  as a match of every nodule whose radius holds it).
- A detection that hits no lesion is a false positive.
- Detections of a class listed in the image's ``ignored_labels`` (the
  image is labelled with that class but has no box of it) are dropped,
  like LUNA16's marks on excluded nodules.

Over the N images, each distinct score ``t`` (highest first) gives one
operating point, after ``(0, 0)``: sensitivity = lesions found / lesions,
FPs per image = false positives / N. Sensitivity at a rate is read with
``numpy.interp`` on these points (linear between them, the last
sensitivity past the last point), as LUNA16 reads its curve; FROC is the
mean sensitivity at 1/8, 1/4, 1/2, 1, 2, 4 and 8 FPs per image.
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
    coordinates, area = width * height): mmdet's ``bbox_overlaps`` in
    float64.

    Args:
        boxes1: (M, 4) boxes.
        boxes2: (K, 4) boxes.

    Returns:
        (M, K) IoU; 0 where the union is empty.

    Example:
        >>> box_iou([[0, 0, 2, 2]], [[1, 0, 3, 2], [4, 4, 5, 5]]).tolist()
        [[0.3333333333333333, 0.0]]
    """
    import torch
    from mmdet.structures.bbox import bbox_overlaps

    def as_tensor(boxes, what):
        b = _as_boxes(boxes, what, check_order=False)
        # an inverted box (x2 < x1) has no area and overlaps nothing
        return torch.from_numpy(
            np.concatenate([b[:, :2], np.maximum(b[:, 2:], b[:, :2])], 1))

    # eps: the smallest normal float64, so an empty union gives 0 and any
    # other union divides unchanged
    iou = bbox_overlaps(
        as_tensor(boxes1, 'boxes1'),
        as_tensor(boxes2, 'boxes2'),
        eps=np.finfo(np.float64).tiny)
    return iou.numpy()


def match_detections(pred_bboxes,
                     pred_labels,
                     gt_bboxes,
                     gt_labels,
                     iou_thr: float = 0.4) -> np.ndarray:
    """Which detections of one image hit which lesions.

    Args:
        pred_bboxes: (K, 4) detected boxes ``x1, y1, x2, y2``.
        pred_labels: (K,) detection class indices.
        gt_bboxes: (G, 4) ground-truth boxes.
        gt_labels: (G,) ground-truth class indices.
        iou_thr: Minimum IoU of a hit.

    Returns:
        (K, G) bool, True where detection k hits lesion g (same class,
        IoU >= ``iou_thr``).

    Example:
        >>> match_detections([[0, 0, 10, 10], [0, 0, 10, 9], [0, 0, 9, 9]],
        ...                  [1, 1, 0], [[0, 0, 10, 10]], [1]).tolist()
        [[True], [True], [False]]
    """
    # a degenerate predicted box is a miss, not an error (no crash at the
    # end of a validation); ground truth must be well formed
    pred_bboxes = _as_boxes(pred_bboxes, 'pred_bboxes', check_order=False)
    pred_labels = _as_vector(pred_labels, pred_bboxes.shape[0],
                             'pred_labels', np.int64)
    gt_bboxes = _as_boxes(gt_bboxes, 'gt_bboxes')
    gt_labels = _as_vector(gt_labels, gt_bboxes.shape[0], 'gt_labels',
                           np.int64)
    if not 0 < iou_thr <= 1:
        raise ValueError(f'iou_thr must lie in (0, 1], got {iou_thr!r}')
    iou = box_iou(pred_bboxes, gt_bboxes)
    return (iou >= iou_thr) & (pred_labels[:, None] == gt_labels[None, :])


def _check_lists(pred_bboxes: Sequence, pred_scores: Sequence,
                 pred_labels: Sequence, gt_bboxes: Sequence,
                 gt_labels: Sequence,
                 ignored_labels: Sequence | None) -> int:
    """Check that all per-image lists have the same, non-zero length."""
    lists = [pred_bboxes, pred_scores, pred_labels, gt_bboxes, gt_labels]
    if ignored_labels is not None:
        lists.append(ignored_labels)
    lengths = [len(x) for x in lists]
    if len(set(lengths)) != 1:
        raise ValueError('pred_bboxes, pred_scores, pred_labels, gt_bboxes, '
                         'gt_labels (and ignored_labels) must list the same '
                         f'images, got lengths {lengths!r}')
    if lengths[0] == 0:
        raise ValueError('FROC needs at least one image, got 0')
    return lengths[0]


def froc_entries(
    pred_bboxes: Sequence,
    pred_scores: Sequence,
    pred_labels: Sequence,
    gt_bboxes: Sequence,
    gt_labels: Sequence,
    iou_thr: float = 0.4,
    ignored_labels: Sequence | None = None,
) -> dict:
    """What enters the FROC curve of N images (LUNA16's candidate lists).

    Args:
        pred_bboxes: N arrays (K_i, 4) of detected boxes.
        pred_scores: N arrays (K_i,) of scores.
        pred_labels: N arrays (K_i,) of class indices.
        gt_bboxes: N arrays (G_i, 4) of lesion boxes.
        gt_labels: N arrays (G_i,) of lesion class indices.
        iou_thr: Minimum IoU of a hit.
        ignored_labels: N sequences of class indices whose detections are
            dropped in that image (classes without a box there); None drops
            none.

    Returns:
        dict: ``lesion_scores`` (L,) the highest score hitting each lesion
        (``-inf`` when none does), ``fp_scores`` (F,) the scores of the
        detections hitting no lesion, ``num_ignored`` (detections that hit
        a lesion but found none: repeat hits), ``num_dropped`` (detections of
        ignored classes), ``num_lesions`` L, ``num_images`` N, and the
        image index and class of each entry: ``lesion_images``,
        ``lesion_labels`` (L,), ``fp_images`` and ``fp_labels`` (F,).
    """
    num_images = _check_lists(pred_bboxes, pred_scores, pred_labels,
                              gt_bboxes, gt_labels, ignored_labels)
    lesion_scores, fp_scores = [], []
    lesion_images, fp_images, lesion_labels, fp_labels = [], [], [], []
    num_ignored = num_dropped = 0
    for i in range(num_images):
        boxes = _as_boxes(pred_bboxes[i], 'pred_bboxes', check_order=False)
        scores = _as_vector(pred_scores[i], boxes.shape[0], 'pred_scores',
                            np.float64)
        labels = _as_vector(pred_labels[i], boxes.shape[0], 'pred_labels',
                            np.int64)
        if not np.all(np.isfinite(scores)):
            raise ValueError(f'pred_scores of image {i} must be finite, got '
                             f'{scores[:5]!r}')
        gts = _as_boxes(gt_bboxes[i], 'gt_bboxes')
        gls = _as_vector(gt_labels[i], gts.shape[0], 'gt_labels', np.int64)
        if ignored_labels is not None and len(ignored_labels[i]):
            ignored = np.asarray(ignored_labels[i], np.int64).reshape(-1)
            if np.isin(ignored, gls).any():
                raise ValueError(
                    f'ignored_labels of image {i} must name classes without '
                    f'a box in it, got {ignored.tolist()!r} with box labels '
                    f'{sorted(set(gls.tolist()))!r}')
            drop = np.isin(labels, ignored)
            num_dropped += int(drop.sum())
            boxes, scores, labels = boxes[~drop], scores[~drop], labels[~drop]
        hits = match_detections(boxes, labels, gts, gls, iou_thr)
        is_fp = ~hits.any(axis=1)
        fp_scores.append(scores[is_fp])
        lesion_images.append(np.full(gts.shape[0], i, np.int64))
        fp_images.append(np.full(int(is_fp.sum()), i, np.int64))
        lesion_labels.append(gls)
        fp_labels.append(labels[is_fp])
        if len(scores) == 0:
            lesion_scores.append(np.full(gts.shape[0], -np.inf))
            continue
        hit_scores = np.where(hits, scores[:, None], -np.inf)
        lesion_scores.append(hit_scores.max(axis=0))
        # the detection that found each lesion; its other hits are repeats
        top = np.argmax(hit_scores, axis=0)[hits.any(axis=0)]
        num_ignored += int((~is_fp).sum()) - np.unique(top).size
    lesion_scores = np.concatenate(lesion_scores)
    return dict(
        lesion_scores=lesion_scores,
        fp_scores=np.concatenate(fp_scores),
        num_ignored=num_ignored,
        num_dropped=num_dropped,
        num_lesions=int(lesion_scores.size),
        num_images=num_images,
        lesion_images=np.concatenate(lesion_images),
        fp_images=np.concatenate(fp_images),
        lesion_labels=np.concatenate(lesion_labels),
        fp_labels=np.concatenate(fp_labels))


def _curve(entries: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fp_per_image, sensitivity, thresholds)`` of :func:`froc_entries`'
    output, each (P,): one point per distinct score of a found lesion or a
    false positive, from the highest down, after a first point
    ``(0, 0, inf)`` (nothing kept)."""
    found = entries['lesion_scores'][np.isfinite(entries['lesion_scores'])]
    scores = np.r_[found, entries['fp_scores']]
    is_tp = np.r_[np.ones(found.size, bool), np.zeros(
        entries['fp_scores'].size, bool)]
    order = np.argsort(-scores, kind='mergesort')
    scores, is_tp = scores[order], is_tp[order]
    # the last entry of each run of tied scores closes an operating point
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    last = last[last >= 0]
    tps = np.cumsum(is_tp)[last].astype(np.float64)
    fps = (last + 1 - tps).astype(np.float64)
    return (np.r_[0.0, fps / entries['num_images']],
            np.r_[0.0, tps / entries['num_lesions']],
            np.r_[np.inf, scores[last]])


def sensitivity_at(fp_per_image,
                   sensitivity,
                   fp_rates: Sequence[float] = FROC_FP_RATES) -> np.ndarray:
    """Read a FROC curve at the given FP-per-image rates, as LUNA16 does:
    ``numpy.interp`` (linear between points; past the last point, its
    sensitivity).

    Args:
        fp_per_image: (P,) non-decreasing FPs per image of the points.
        sensitivity: (P,) non-decreasing sensitivity of the points.
        fp_rates: (R,) rates to read at.

    Returns:
        (R,) sensitivity at each rate; at a rate shared by several points,
        that of the last (highest) one.

    Example:
        >>> sensitivity_at([0, 0.5, 1, 3], [0, 0.4, 0.5, 0.9], [0.25, 1, 8])
        array([0.2, 0.5, 0.9])
    """
    fp_per_image = np.asarray(fp_per_image, dtype=np.float64)
    sensitivity = np.asarray(sensitivity, dtype=np.float64)
    if fp_per_image.shape != sensitivity.shape or fp_per_image.ndim != 1 \
            or fp_per_image.size == 0:
        raise ValueError('fp_per_image and sensitivity must be 1-D of the '
                         f'same non-zero length, got {fp_per_image.shape!r} '
                         f'and {sensitivity.shape!r}')
    if np.any(np.diff(fp_per_image) < 0):
        raise ValueError('fp_per_image must be non-decreasing, got '
                         f'{fp_per_image[:8]!r}')
    return np.interp(
        np.asarray(fp_rates, dtype=np.float64), fp_per_image, sensitivity)


def froc_score(pred_bboxes: Sequence,
               pred_scores: Sequence,
               pred_labels: Sequence,
               gt_bboxes: Sequence,
               gt_labels: Sequence,
               fp_rates: Sequence[float] = FROC_FP_RATES,
               iou_thr: float = 0.4,
               ignored_labels: Sequence | None = None) -> dict:
    """Lesion sensitivity at ``fp_rates`` FPs per image and their mean.

    Args are those of :func:`froc_entries`, plus ``fp_rates`` (R,).

    Returns:
        dict with ``froc`` (float, mean sensitivity), ``sensitivities`` (R,)
        array, ``fp_rates`` tuple, ``num_lesions``, ``num_images``,
        ``num_ignored``, ``num_dropped`` (see :func:`froc_entries`) and the
        curve (``fp_per_image``, ``sensitivity``, ``thresholds``). With no
        lesion at all, ``froc`` and ``sensitivities`` are ``nan``.

    Example:
        >>> out = froc_score([[[0, 0, 4, 4], [0, 0, 4, 4]]], [[0.9, 0.8]],
        ...                  [[0, 0]], [[[0, 0, 4, 4]]], [[0]])
        >>> out['froc'], out['num_lesions'], out['num_ignored']
        (1.0, 1, 1)
    """
    if len(fp_rates) == 0 or any(r <= 0 for r in fp_rates):
        raise ValueError(f'fp_rates must be positive, got {fp_rates!r}')
    entries = froc_entries(pred_bboxes, pred_scores, pred_labels, gt_bboxes,
                           gt_labels, iou_thr, ignored_labels)
    out = dict(
        fp_rates=tuple(float(r) for r in fp_rates),
        **{
            k: entries[k]
            for k in ('num_lesions', 'num_images', 'num_ignored',
                      'num_dropped')
        })
    if entries['num_lesions'] == 0:
        out.update(
            froc=math.nan,
            sensitivities=np.full(len(fp_rates), math.nan),
            fp_per_image=np.zeros(1),
            sensitivity=np.zeros(1),
            thresholds=np.full(1, np.inf))
        return out
    fppi, sens, thr = _curve(entries)
    sens_at = sensitivity_at(fppi, sens, fp_rates)
    out.update(
        froc=float(sens_at.mean()),
        sensitivities=sens_at,
        fp_per_image=fppi,
        sensitivity=sens,
        thresholds=thr)
    return out
