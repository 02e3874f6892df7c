# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""COCO AP of image resamples from one pycocotools evaluation.

``COCOeval.evaluate()`` matches the detections of each image and class once
(``evalImgs``); ``COCOeval.accumulate()`` then ranks them per class and
reads precision at 101 recall thresholds. :func:`coco_matches` keeps those
per-image matches (area ``all``, a ``maxDets`` cut: pycocotools' summary
reads ``bbox_mAP`` at 100 detections an image, ``bbox_mAP_50`` and the
per-class AP at the largest ``maxDets``), and :func:`coco_ap_resampled`
re-runs only the accumulation with each image counted as often as a resample holds it. With every weight
1 it gives ``accumulate``'s AP.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ranked_counts import cumulative_weights, precision_envelope


def coco_matches(coco_eval,
                 img_ids: Sequence | None = None,
                 max_det: int | None = None) -> dict:
    """Per-class ranked matches of an evaluated ``COCOeval``.

    Args:
        coco_eval: A ``pycocotools`` ``COCOeval`` after ``evaluate()``
            (``useCats``; any IoU thresholds).
        img_ids: Image ids in the column order of the weights to come
            (default: ``coco_eval.params.imgIds``).
        max_det: Detections kept per image and class, highest scores first
            (default: the largest ``params.maxDets``).

    Returns:
        dict: ``classes``, one dict per category of ``params.catIds`` with
        ``image`` (D,) image column of each detection, ranked as
        ``accumulate`` ranks them, ``tp`` and ``ignored`` (T, D) bool,
        ``num_pos`` (N,) the non-ignored ground truth per image;
        ``iou_thrs`` (T,), ``rec_thrs`` (R,), ``num_images`` N and
        ``img_ids``.
    """
    params = coco_eval.params
    if img_ids is None:
        img_ids = list(params.imgIds)
    column = {img_id: k for k, img_id in enumerate(img_ids)}
    missing = [i for i in params.imgIds if i not in column]
    if missing:
        raise ValueError(f'img_ids lacks images of the evaluation, got none '
                         f'for {missing[:5]!r}')
    num_areas, num_imgs = len(params.areaRng), len(params.imgIds)
    max_det = params.maxDets[-1] if max_det is None else int(max_det)
    num_thrs = len(params.iouThrs)
    classes = []
    for k in range(len(params.catIds)):
        scores, tps, ignored, images = [], [], [], []
        num_pos = np.zeros(len(img_ids), np.int64)
        for i, img_id in enumerate(params.imgIds):
            e = coco_eval.evalImgs[k * num_areas * num_imgs + i]
            if e is None:
                continue
            col = column[img_id]
            num_pos[col] = int(np.count_nonzero(e['gtIgnore'] == 0))
            det_scores = np.asarray(e['dtScores'][:max_det], np.float64)
            scores.append(det_scores)
            matched = np.asarray(e['dtMatches'])[:, :max_det]
            tps.append(matched != 0)
            ignored.append(np.asarray(e['dtIgnore'], bool)[:, :max_det])
            images.append(np.full(det_scores.size, col, np.int64))
        if scores:
            order = np.argsort(-np.concatenate(scores), kind='mergesort')
            image = np.concatenate(images)[order]
            dt_ig = np.concatenate(ignored, axis=1)[:, order]
            tp = np.concatenate(tps, axis=1)[:, order] & ~dt_ig
        else:
            image = np.zeros(0, np.int64)
            tp = dt_ig = np.zeros((num_thrs, 0), bool)
        classes.append(
            dict(image=image, tp=tp, ignored=dt_ig, num_pos=num_pos))
    return dict(
        classes=classes,
        iou_thrs=np.asarray(params.iouThrs, np.float64),
        rec_thrs=np.asarray(params.recThrs, np.float64),
        num_images=len(img_ids),
        img_ids=list(img_ids))


def _class_ap(entry: dict, weights: np.ndarray,
              rec_thrs: np.ndarray) -> np.ndarray:
    """(B, T) AP of one class, ``nan`` where a resample holds no positive;
    ``accumulate``'s arithmetic, kept to the detections that raise
    recall."""
    num_boot, num_thrs = weights.shape[0], entry['tp'].shape[0]
    num_pos = weights @ entry['num_pos'].astype(np.float64)
    ap = np.full((num_boot, num_thrs), np.nan)
    has_pos = num_pos > 0
    if not has_pos.any():
        return ap
    ap[has_pos] = 0.0
    hit = entry['tp'].any(axis=0)
    if not hit.any():
        return ap
    positions = np.flatnonzero(hit)
    ranked = cumulative_weights(weights, entry['image'], positions)
    ignored = entry['ignored']
    for t in range(num_thrs):
        at = positions[entry['tp'][t, positions]]
        if at.size == 0:
            continue
        cols = np.searchsorted(positions, at)
        counted = ranked[:, cols]
        if ignored[t].any():
            # ignored detections ranked above each hit
            ig_at = np.flatnonzero(ignored[t])
            before = np.searchsorted(ig_at, at, side='right') - 1
            ig_cum = cumulative_weights(weights, entry['image'][ig_at],
                                        np.maximum(before, 0))
            counted = counted - np.where(before >= 0, ig_cum, 0.0)
        tp_sum = np.cumsum(weights[:, entry['image'][at]], axis=1,
                           dtype=np.float64)
        precision = precision_envelope(tp_sum /
                                       (counted + np.spacing(1)))
        recall = tp_sum[has_pos] / num_pos[has_pos, None]
        # recall thresholds reached at each hit (first index with rc >= r,
        # as accumulate's searchsorted)
        reached = np.searchsorted(rec_thrs, recall.ravel(),
                                  side='right').reshape(recall.shape)
        new = np.diff(reached, axis=1, prepend=0)
        ap[has_pos, t] = (new * precision[has_pos]).sum(axis=1) / \
            rec_thrs.size
    return ap


def coco_ap_resampled(matches: dict, weights: np.ndarray) -> np.ndarray:
    """AP per resample, class and IoU threshold.

    Args:
        matches: :func:`coco_matches`'s output.
        weights: (B, N) multiplicity of each image (columns in
            ``matches``' image order).

    Returns:
        (B, K, T) AP; ``nan`` for a class without a positive in a resample
        (as ``accumulate`` leaves its precision -1). ``bbox_mAP`` is the
        ``nanmean`` over K of the mean over T, ``bbox_mAP_50`` the
        ``nanmean`` over K at IoU 0.5.
    """
    weights = np.atleast_2d(np.asarray(weights))
    if weights.shape[1] != matches['num_images']:
        raise ValueError(f'weights must have {matches["num_images"]} '
                         f'columns (one per image), got {weights.shape!r}')
    return np.stack([
        _class_ap(entry, weights, matches['rec_thrs'])
        for entry in matches['classes']
    ], axis=1)
