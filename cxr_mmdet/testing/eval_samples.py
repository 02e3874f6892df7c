# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Synthetic predictions and ground truth, as the test loop hands them to
the evaluators."""
from __future__ import annotations

import numpy as np

from ..classes import CXR_CLASSES


def synthetic_detections(num_images: int = 1000,
                         dets_per_image: int = 200,
                         size: int = 300,
                         neg_fraction: float = 0.2,
                         seed: int = 0) -> list[dict]:
    """Ground truth and predictions of ``num_images`` images, as numpy.

    ``dets_per_image`` predicted boxes per image (the config's
    ``max_per_img``), about a fifth jittered copies of the ground truth, the
    rest anywhere; ``neg_fraction`` of the images without ground truth.

    Returns:
        list[dict]: per image ``img_id``, ``size``, ``gt_bboxes`` (G, 4),
        ``gt_labels`` (G,), ``img_labels`` (C,) 0/1 list, ``pred_bboxes``
        (K, 4), ``pred_scores`` (K,) and ``pred_labels`` (K,).
    """
    rng = np.random.default_rng(seed)
    num_classes = len(CXR_CLASSES)
    images = []
    for k in range(num_images):
        count = 0 if rng.random() < neg_fraction else int(rng.integers(1, 4))
        wh = rng.uniform(0.1 * size, 0.4 * size, (count, 2))
        xy = rng.uniform(0, 1, (count, 2)) * (size - 1 - wh)
        gt_boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
        gt_labels = rng.integers(0, num_classes, count)
        img_labels = [0] * num_classes
        for label in gt_labels:
            img_labels[int(label)] = 1
        near = min(dets_per_image, count * max(dets_per_image // 10, 1))
        pwh = rng.uniform(0.05 * size, 0.5 * size, (dets_per_image, 2))
        pxy = rng.uniform(0, 1, (dets_per_image, 2)) * (size - 1 - pwh)
        pred_boxes = np.concatenate([pxy, pxy + pwh], 1)
        pred_labels = rng.integers(0, num_classes, dets_per_image)
        if near:
            pick = rng.integers(0, count, near)
            jitter = rng.normal(0, 0.05 * size, (near, 4))
            pred_boxes[:near] = gt_boxes[pick] + jitter
            pred_labels[:near] = gt_labels[pick]
        pred_boxes = np.clip(pred_boxes, 0, size - 1)
        pred_boxes[:, 2:] = np.maximum(pred_boxes[:, 2:],
                                       pred_boxes[:, :2] + 1)
        scores = np.sort(rng.uniform(0.02, 1.0, dets_per_image))[::-1]
        images.append(
            dict(
                img_id=f'synthetic_{k:05d}',
                size=size,
                gt_bboxes=gt_boxes,
                gt_labels=gt_labels,
                img_labels=img_labels,
                pred_bboxes=pred_boxes,
                pred_scores=scores,
                pred_labels=pred_labels))
    return images


def synthetic_eval_samples(num_images: int = 1000,
                           dets_per_image: int = 200,
                           size: int = 300,
                           neg_fraction: float = 0.2,
                           seed: int = 0,
                           **metainfo) -> list:
    """Data samples as the test loop hands them to the evaluator: the
    images of :func:`synthetic_detections` (same arguments).

    Each is a ``DetDataSample`` shaped like the output of the config's test
    pipeline plus ``model.test_step``: metainfo ``img_id``, ``img_path``,
    ``ori_shape``, ``img_shape``, ``scale_factor``, ``instances`` (what
    ``CocoMetric(ann_file=None)`` reads) and ``img_labels`` (what
    ``CXRROCMetric`` reads); ``gt_instances`` and ``ignored_instances``
    (``HorizontalBoxes``, what ``VOCMetric`` reads); ``pred_instances``.
    ``metainfo``: more metainfo for every sample.
    """
    return [
        eval_sample(
            image['img_id'],
            size,
            image['gt_bboxes'],
            image['gt_labels'],
            image['img_labels'],
            (image['pred_bboxes'], image['pred_scores'],
             image['pred_labels']),
            img_path=f'VOC2007/JPEGImages/{image["img_id"]}.png',
            scale_factor=(1.0, 1.0),
            **metainfo) for image in synthetic_detections(
                num_images, dets_per_image, size, neg_fraction, seed)
    ]


def eval_sample(img_id,
                size: int,
                gt_boxes,
                gt_labels,
                img_labels,
                preds: tuple | None = None,
                **metainfo):
    """One image as the test pipeline packs it and ``model.test_step``
    fills it.

    Args:
        img_id: Image id; ``img_path`` is ``<img_id>.png`` unless
            ``metainfo`` names one.
        size: Image side (``ori_shape`` and ``img_shape``).
        gt_boxes: (G, 4) boxes ``x1, y1, x2, y2``.
        gt_labels: (G,) class indices.
        img_labels: 0/1 list, one per class.
        preds: ``(boxes (K, 4), scores (K,), labels (K,))`` for
            ``pred_instances``, or None for none.
        metainfo: More metainfo (``scale_factor``, ``ignored_labels``...).

    Returns:
        DetDataSample: metainfo ``img_id``, ``img_path``, ``ori_shape``,
        ``img_shape``, ``instances`` (what ``CocoMetric(ann_file=None)``
        reads), ``img_labels`` (what ``CXRROCMetric`` reads) and
        ``metainfo``; ``gt_instances`` and empty ``ignored_instances``
        (``HorizontalBoxes``, what ``VOCMetric`` reads).
    """
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
    gt_labels = np.asarray(gt_labels, np.int64).reshape(-1)
    metainfo.setdefault('img_path', f'{img_id}.png')
    sample = DetDataSample(
        metainfo=dict(
            img_id=img_id,
            ori_shape=(size, size),
            img_shape=(size, size),
            instances=[
                dict(
                    bbox=[float(v) for v in box],
                    bbox_label=int(label),
                    ignore_flag=0) for box, label in zip(gt_boxes, gt_labels)
            ],
            img_labels=list(img_labels),
            **metainfo))
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(torch.from_numpy(gt_boxes)),
        labels=torch.from_numpy(gt_labels))
    sample.ignored_instances = InstanceData(
        bboxes=HorizontalBoxes(torch.zeros(0, 4)),
        labels=torch.zeros(0, dtype=torch.int64))
    if preds is not None:
        boxes, scores, labels = (np.asarray(p) for p in preds)
        sample.pred_instances = InstanceData(
            bboxes=torch.from_numpy(boxes.astype(np.float32).reshape(-1, 4)),
            scores=torch.from_numpy(scores.astype(np.float32).copy()),
            labels=torch.from_numpy(labels.astype(np.int64)))
    return sample


def run_evaluator(samples: list, evaluator: list | None = None,
                  batch_size: int = 16) -> tuple:
    """Evaluate data samples as the test loop does, quietly.

    Args:
        samples: ``DetDataSample`` s (:func:`synthetic_eval_samples`).
        evaluator: Metric configs; default: the ``test_evaluator`` of
            ``configs/_base_/datasets/cxr6_voc.py``.
        batch_size: Samples per ``process`` call.

    Returns:
        tuple: the mmengine ``Evaluator`` (its metrics keep their per-image
        matches) and the metrics dict it returned.
    """
    import logging

    from mmengine.config import Config
    from mmengine.evaluator import Evaluator
    from mmengine.logging import MMLogger

    import cxr_mmdet  # noqa: F401  registers the metrics
    from . import get_config_path
    from ..classes import CXR_PALETTE
    if evaluator is None:
        evaluator = Config.fromfile(
            get_config_path('_base_/datasets/cxr6_voc.py')).test_evaluator
    from mmdet.registry import METRICS
    metrics = [METRICS.build(cfg) for cfg in evaluator]
    built = Evaluator(metrics)
    built.dataset_meta = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        for lo in range(0, len(samples), batch_size):
            built.process([s.clone() for s in samples[lo:lo + batch_size]])
        return built, built.evaluate(len(samples))
    finally:
        logger.setLevel(level)
