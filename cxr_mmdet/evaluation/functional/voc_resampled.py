# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""VOC AP (continuous coordinates, the VinBigData mAP@0.4) of image
resamples from one matching.

:func:`voc_matches` runs mmdet's ``tpfp_default`` once per image and class
(what ``eval_map`` runs, with ``use_legacy_coordinate=False`` as
``CXRVOCMetric`` calls it) and ranks the detections of each class by
score; :func:`voc_ap_resampled` re-reads the ``'area'`` AP of ``eval_map``
with each image counted as often as a resample holds it. With every weight
1 it gives ``eval_map``'s AP.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ranked_counts import cumulative_weights, precision_envelope


def voc_matches(annotations: Sequence[dict],
                det_results: Sequence[Sequence[np.ndarray]],
                iou_thr: float = 0.4) -> list[dict]:
    """Per-class ranked true and false positives of N images.

    Args:
        annotations: N dicts as ``eval_map`` takes them: ``bboxes``
            (G, 4), ``labels`` (G,), optional ``bboxes_ignore`` and
            ``labels_ignore``.
        det_results: N lists, one (K, 5) array per class (``x1, y1, x2,
            y2, score``).
        iou_thr: IoU of a hit.

    Returns:
        list[dict]: per class, ``image`` (D,) image index of each detection
        ranked by score (highest first), ``tp`` and ``fp`` (D,) bool
        (a detection matched to an ignored box is neither), ``num_pos``
        (N,) the non-ignored boxes of the class per image.
    """
    from mmdet.evaluation.functional.mean_ap import tpfp_default
    if len(annotations) != len(det_results):
        raise ValueError('annotations and det_results must list the same '
                         f'images, got {len(annotations)!r} and '
                         f'{len(det_results)!r}')
    num_classes = len(det_results[0]) if det_results else 0
    out = []
    for c in range(num_classes):
        scores, tps, fps, images = [], [], [], []
        num_pos = np.zeros(len(annotations), np.int64)
        for i, (ann, dets) in enumerate(zip(annotations, det_results)):
            labels = np.asarray(ann['labels']).reshape(-1)
            gts = np.asarray(ann['bboxes'], np.float32).reshape(-1, 4)
            gts = gts[labels == c]
            num_pos[i] = gts.shape[0]
            ig_labels = np.asarray(ann.get('labels_ignore',
                                           np.zeros(0))).reshape(-1)
            ig = np.asarray(ann.get('bboxes_ignore', np.zeros((0, 4))),
                            np.float32).reshape(-1, 4)[ig_labels == c]
            det = np.asarray(dets[c], np.float32).reshape(-1, 5)
            if det.shape[0] == 0:
                continue
            tp, fp = tpfp_default(
                det, gts, ig, iou_thr, use_legacy_coordinate=False)
            scores.append(det[:, 4].astype(np.float64))
            tps.append(tp[0] > 0)
            fps.append(fp[0] > 0)
            images.append(np.full(det.shape[0], i, np.int64))
        if scores:
            # eval_map ranks with np.argsort(-scores); stable here
            order = np.argsort(-np.concatenate(scores), kind='mergesort')
            entry = dict(
                image=np.concatenate(images)[order],
                tp=np.concatenate(tps)[order],
                fp=np.concatenate(fps)[order])
        else:
            entry = dict(image=np.zeros(0, np.int64),
                         tp=np.zeros(0, bool), fp=np.zeros(0, bool))
        entry['num_pos'] = num_pos
        out.append(entry)
    return out


def voc_ap_resampled(matches: Sequence[dict],
                     weights: np.ndarray) -> np.ndarray:
    """``'area'`` AP per resample and class.

    Args:
        matches: :func:`voc_matches`'s output.
        weights: (B, N) multiplicity of each image.

    Returns:
        (B, C) AP; ``nan`` for a class without a box in a resample (
        ``eval_map`` leaves those out of its mean, so the mAP is the
        ``nanmean`` over C).
    """
    weights = np.atleast_2d(np.asarray(weights))
    out = np.full((weights.shape[0], len(matches)), np.nan)
    for c, entry in enumerate(matches):
        num_pos = weights @ entry['num_pos'].astype(np.float64)
        has_pos = num_pos > 0
        out[has_pos, c] = 0.0
        at = np.flatnonzero(entry['tp'])
        if at.size == 0 or not has_pos.any():
            continue
        counted = entry['tp'] | entry['fp']
        # detections counted (tp or fp) up to each hit
        counted_at = np.cumsum(counted)[at] - 1
        ranked = cumulative_weights(weights, entry['image'][counted],
                                    counted_at)
        hits = weights[:, entry['image'][at]].astype(np.float64)
        tp_sum = np.cumsum(hits, axis=1)
        precision = precision_envelope(
            tp_sum / np.maximum(ranked, np.finfo(np.float32).eps))
        out[has_pos, c] = (hits[has_pos] * precision[has_pos]).sum(
            axis=1) / num_pos[has_pos]
    return out
