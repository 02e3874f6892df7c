# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""SSD post-processing of the exported graph's outputs, without mmdet.

The steps and their order are those of mmdet's
``BaseDenseHead._predict_by_feat_single`` and ``_bbox_post_process`` with
SSD's ``test_cfg``: per feature level keep the (anchor, class) pairs
scoring above ``score_thr`` and of those the ``nms_pre`` best; decode with
``DeltaXYWHBBoxCoder``; undo the resize; drop boxes not wider and taller
than ``min_bbox_size``; per-class NMS at ``iou_thr``
(``torchvision.ops.batched_nms``); keep ``max_per_img``.
"""
from __future__ import annotations

import numpy as np

from .deploy_meta import DeployMeta
from .detections import Detections


def decode_deltas(anchors: np.ndarray, deltas: np.ndarray,
                  meta: DeployMeta) -> np.ndarray:
    """``DeltaXYWHBBoxCoder.decode`` (mmdet's ``delta2bbox``) in numpy.

    Args:
        anchors: (N, 4) ``x1, y1, x2, y2``.
        deltas: (N, 4) ``dx, dy, dw, dh`` as the head predicts them.

    Returns:
        np.ndarray: (N, 4) float32 boxes in the network input's frame,
        clipped to it when ``meta.clip_border``.

    >>> from cxr_mmdet.deployment.deploy_meta import DeployMeta
    >>> meta = DeployMeta((10, 10), [0] * 3, [1] * 3, False, ['a'],
    ...                   [[0, 0, 4, 4]], [1])
    >>> decode_deltas(meta.anchors, np.array([[0.25, 0, 0, 0]]),
    ...               meta).tolist()
    [[1.0, 0.0, 5.0, 4.0]]
    """
    deltas = deltas.astype(np.float32) * np.asarray(
        meta.target_stds, np.float32) + np.asarray(meta.target_means,
                                                   np.float32)
    pxy = (anchors[:, :2] + anchors[:, 2:]) * np.float32(0.5)
    pwh = anchors[:, 2:] - anchors[:, :2]
    dxy_wh = pwh * deltas[:, :2]
    dwh = deltas[:, 2:]
    max_ratio = np.float32(abs(np.log(meta.wh_ratio_clip)))
    if meta.add_ctr_clamp:
        dxy_wh = np.clip(dxy_wh, -meta.ctr_clamp, meta.ctr_clamp)
        dwh = np.minimum(dwh, max_ratio)
    else:
        dwh = np.clip(dwh, -max_ratio, max_ratio)
    gxy = pxy + dxy_wh
    gwh = pwh * np.exp(dwh)
    boxes = np.concatenate([gxy - gwh * np.float32(0.5),
                            gxy + gwh * np.float32(0.5)], axis=1)
    if meta.clip_border:
        height, width = meta.input_size
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, width)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, height)
    return boxes.astype(np.float32)


def select_candidates(scores: np.ndarray, meta: DeployMeta
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mmdet's ``filter_scores_and_topk`` on every level.

    Args:
        scores: (N, C) class probabilities of one image.

    Returns:
        tuple: anchor indices, labels and scores of the kept pairs, level
        by level, each level's in descending score order.
    """
    anchors, labels, kept = [], [], []
    start = 0
    for size in meta.level_sizes:
        level = scores[start:start + size]
        rows, cols = np.nonzero(level > meta.score_thr)
        values = level[rows, cols]
        order = np.argsort(-values, kind='stable')[:meta.nms_pre]
        anchors.append(rows[order] + start)
        labels.append(cols[order])
        kept.append(values[order])
        start += size
    return (np.concatenate(anchors), np.concatenate(labels).astype(np.int64),
            np.concatenate(kept).astype(np.float32))


def batched_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                iou_thr: float) -> np.ndarray:
    """Indices kept by per-class NMS, highest score first
    (``torchvision.ops.batched_nms``, the kernel the plugin gives mmdet)."""
    import torch
    from torchvision.ops import batched_nms as nms
    keep = nms(
        torch.from_numpy(boxes), torch.from_numpy(scores),
        torch.from_numpy(labels), float(iou_thr))
    return keep.numpy()


def ssd_detections(scores: np.ndarray, deltas: np.ndarray, meta: DeployMeta,
                   scale: np.ndarray | None = None) -> Detections:
    """One image's detections from the graph's outputs.

    Args:
        scores: (N, C) class probabilities.
        deltas: (N, 4) box deltas.
        scale: ``(w_scale, h_scale)`` of the resize from the image to the
            network input; boxes are divided by it (mmdet's ``rescale``).

    Returns:
        Detections: in the given image's frame (the network input's when
        ``scale`` is None), at most ``meta.max_per_img``.
    """
    idx, labels, kept = select_candidates(scores, meta)
    boxes = decode_deltas(meta.anchors[idx], deltas[idx], meta)
    if scale is not None:
        boxes = boxes / np.tile(np.asarray(scale, np.float32), 2)
    if meta.min_bbox_size >= 0:
        wh = boxes[:, 2:] - boxes[:, :2]
        valid = (wh > meta.min_bbox_size).all(axis=1)
        boxes, labels, kept = boxes[valid], labels[valid], kept[valid]
    if not len(boxes):
        return Detections.empty()
    keep = batched_nms(boxes, kept, labels, meta.iou_thr)[:meta.max_per_img]
    return Detections(boxes[keep], kept[keep], labels[keep])
