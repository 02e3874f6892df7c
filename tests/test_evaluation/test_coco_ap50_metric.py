# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""CocoAP50Metric gives COCO AP@.5, the same as CocoMetric's mAP_50."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cxr_mmdet.evaluation.metrics import CocoAP50Metric, CXRCocoMetric

CLASSES = ('a', 'b')


def _samples(seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(6):
        gt = rng.uniform(0, 40, (2, 2))
        gt_boxes = np.concatenate([gt, gt + rng.uniform(20, 40, (2, 2))], 1)
        gt_labels = np.array([0, i % 2])
        # shifted copies of the truth, one miss, one spurious box
        pred = gt_boxes + rng.normal(0, 6, gt_boxes.shape)
        pred = np.concatenate([pred, [[60., 60., 90., 90.]]])
        labels = np.array([0, 1 - i % 2 if i < 2 else i % 2, 1])
        samples.append(
            dict(
                img_id=i,
                ori_shape=(100, 100),
                instances=[
                    dict(bbox=b.tolist(), bbox_label=int(c), ignore_flag=0)
                    for b, c in zip(gt_boxes, gt_labels)
                ],
                pred_instances=dict(
                    bboxes=torch.tensor(pred, dtype=torch.float32),
                    scores=torch.tensor(rng.uniform(0.1, 1, 3),
                                        dtype=torch.float32),
                    labels=torch.tensor(labels))))
    return samples


def _evaluate(metric) -> dict:
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples())
    return metric.evaluate(6)


def test_ap50_equals_coco_map50_overall_and_per_class():
    ours = _evaluate(CocoAP50Metric())
    coco = _evaluate(CXRCocoMetric(metric='bbox', classwise=True))
    assert 0 < ours['ap50/bbox_mAP'] < 1
    assert ours['ap50/bbox_mAP'] == pytest.approx(
        coco['coco/bbox_mAP_50'], abs=1e-3)
    # per class: AP@.5 is at least the AP averaged over IoU .5:.95
    for name in CLASSES:
        assert ours[f'ap50/{name}_precision'] >= coco[
            f'coco/{name}_precision']
    with pytest.raises(ValueError, match='iou_thrs'):
        CocoAP50Metric(iou_thrs=[0.5])
