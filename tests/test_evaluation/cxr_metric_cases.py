# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Tiny detection results with known image labels, as mmdet data samples
(a module, not conftest, so test modules and spawned ranks import it)."""
from __future__ import annotations

import numpy as np


def make_case(num_images: int = 12, seed: int = 0):
    """Per-image GT boxes/labels, image flags and detections (numpy).

    Class 5 never occurs (no positive image); class 1 occurs in every
    image (no negative image). Scores are informative but imperfect, with
    ties. Returns a list of dicts.
    """
    rng = np.random.default_rng(seed)
    images = []
    for i in range(num_images):
        gt_boxes, gt_labels = [], []
        for c in (0, 2, 3, 4):
            if rng.random() < 0.4:
                x, y = rng.uniform(0, 200, 2)
                gt_boxes.append([x, y, x + 40, y + 30])
                gt_labels.append(c)
        gt_boxes.append([10, 10, 60, 60])
        gt_labels.append(1)
        if i == 0:  # every class 0-4 needs both kinds of images
            gt_boxes, gt_labels = gt_boxes[-1:], [1]
        if i == 1:
            gt_boxes = [[5, 5, 25, 25], [30, 30, 60, 60], [70, 70, 90, 90],
                        [100, 100, 130, 130], [10, 10, 60, 60]]
            gt_labels = [0, 2, 3, 4, 1]
        gt_boxes = np.asarray(gt_boxes, np.float32).reshape(-1, 4)
        gt_labels = np.asarray(gt_labels, np.int64)
        img_labels = np.zeros(6, np.int64)
        img_labels[gt_labels] = 1
        # detections: jittered GT boxes (hits), plus false positives
        pred_boxes = gt_boxes + rng.normal(0, 2, gt_boxes.shape)
        pred_scores = np.round(rng.uniform(0.3, 1.0, len(gt_labels)), 1)
        pred_labels = gt_labels.copy()
        k = int(rng.integers(0, 4))
        xy = rng.uniform(0, 200, (k, 2))
        pred_boxes = np.r_[pred_boxes, np.c_[xy, xy + 20]]
        pred_scores = np.r_[pred_scores, np.round(rng.uniform(0, .8, k), 1)]
        pred_labels = np.r_[pred_labels, rng.integers(0, 6, k)]
        images.append(
            dict(
                gt_bboxes=gt_boxes,
                gt_labels=gt_labels,
                img_labels=img_labels,
                pred_bboxes=pred_boxes.astype(np.float32),
                pred_scores=pred_scores.astype(np.float32),
                pred_labels=pred_labels))
    return images


def to_data_sample(image: dict,
                   index: int,
                   box_type: bool = True,
                   with_img_labels: bool = True):
    """A DetDataSample like mmdet's test pipeline + model produce."""
    import torch
    from mmengine.structures import InstanceData

    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    meta = dict(
        img_path=f'img_{index}.png',
        img_id=str(index),
        ori_shape=(256, 256),
        img_shape=(256, 256))
    if with_img_labels:
        meta['img_labels'] = image['img_labels'].tolist()
    sample = DetDataSample(metainfo=meta)
    gt_boxes = torch.from_numpy(image['gt_bboxes'])
    sample.gt_instances = InstanceData(
        bboxes=HorizontalBoxes(gt_boxes) if box_type else gt_boxes,
        labels=torch.from_numpy(image['gt_labels']))
    sample.ignored_instances = InstanceData(
        bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    sample.pred_instances = InstanceData(
        bboxes=torch.from_numpy(image['pred_bboxes']),
        scores=torch.from_numpy(image['pred_scores']),
        labels=torch.from_numpy(image['pred_labels']))
    return sample
