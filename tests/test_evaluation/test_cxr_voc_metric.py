# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""CXRVOCMetric: VOC2010 (area) AP on continuous coordinates, through a
real mmengine Evaluator, against mmdet's eval_map and a hand-made case."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from .cxr_metric_cases import make_case, to_data_sample
from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.evaluation.metrics import CXRVOCMetric
from mmdet.evaluation import VOCMetric
from mmdet.evaluation.functional import eval_map
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample

META = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)


def evaluate(metric, samples):
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = META
    for sample in samples:
        evaluator.process(data_samples=[sample])
    return evaluator.evaluate(len(samples))


def sample(index, gt_boxes, gt_labels, boxes, scores, labels, **meta):
    """One image's DetDataSample as mmdet's test pipeline + model make."""
    s = DetDataSample(
        metainfo=dict(
            img_id=str(index),
            img_path=f'img_{index}.png',
            ori_shape=(100, 100),
            img_shape=(100, 100),
            **meta))
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(gt_boxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor(gt_labels, dtype=torch.long))
    s.ignored_instances = InstanceData(
        bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    s.pred_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor(scores, dtype=torch.float32),
        labels=torch.tensor(labels, dtype=torch.long))
    return s


def test_registered_and_a_voc_metric():
    metric = METRICS.build(dict(type='CXRVOCMetric', iou_thrs=[0.4]))
    assert isinstance(metric, CXRVOCMetric)
    assert isinstance(metric, VOCMetric)
    assert metric.prefix == 'pascal_voc' and metric.eval_mode == 'area'
    with pytest.raises(ValueError, match='nproc'):
        CXRVOCMetric(nproc=0)


def test_a_small_box_where_the_extra_pixel_decides():
    # one image, class 0, lesions g1 [0,0,4,4] and g2 [10,10,20,20]
    # d1 .9 [10,10,20,20]: IoU 1 with g2 -> TP
    # d2 .8 [0,0,4,1.5]: continuous IoU with g1 = 4*1.5 / 16 = 0.375 < 0.4
    #   -> FP; with +1 px: 5*2.5 / (5*5) = 0.5 -> TP
    # d3 .7 [50,50,60,60]: overlaps nothing -> FP
    # continuous: TP, FP, FP -> recall .5,.5,.5; precision 1,.5,1/3;
    #   area AP = (.5 - 0) * 1 + (1 - .5) * 0 = 0.5
    # legacy (+1 px): TP, TP, FP -> recall .5, 1, 1; precision 1, 1, 2/3;
    #   area AP = .5 * 1 + .5 * 1 = 1.0
    case = [
        sample(0, [[0, 0, 4, 4], [10, 10, 20, 20]], [0, 0],
               [[10, 10, 20, 20], [0, 0, 4, 1.5], [50, 50, 60, 60]],
               [0.9, 0.8, 0.7], [0, 0, 0])
    ]
    ours = evaluate(CXRVOCMetric(iou_thrs=[0.4]), case)
    assert ours['pascal_voc/mAP'] == pytest.approx(0.5, abs=1e-6)
    assert ours['pascal_voc/AP40'] == 0.5
    stock = evaluate(VOCMetric(iou_thrs=[0.4], eval_mode='area'), case)
    assert stock['pascal_voc/mAP'] == pytest.approx(1.0, abs=1e-6)


def test_equals_eval_map_on_continuous_coordinates():
    images = make_case(num_images=12, seed=1)
    # make every box small, where the extra pixel matters
    for im in images:
        for key in ('gt_bboxes', 'pred_bboxes'):
            b = im[key]
            b[:, 2:] = b[:, :2] + (b[:, 2:] - b[:, :2]) / 6
    results = evaluate(
        CXRVOCMetric(iou_thrs=[0.4]),
        [to_data_sample(im, i) for i, im in enumerate(images)])
    dets = [[
        np.c_[im['pred_bboxes'][im['pred_labels'] == c],
              im['pred_scores'][im['pred_labels'] == c]] for c in range(6)
    ] for im in images]
    annotations = [
        dict(
            bboxes=im['gt_bboxes'],
            labels=im['gt_labels'],
            bboxes_ignore=np.zeros((0, 4), np.float32),
            labels_ignore=np.zeros(0, np.int64)) for im in images
    ]
    expected, _ = eval_map(
        dets,
        annotations,
        iou_thr=0.4,
        eval_mode='area',
        use_legacy_coordinate=False,
        logger='silent')
    legacy, _ = eval_map(
        dets,
        annotations,
        iou_thr=0.4,
        eval_mode='area',
        use_legacy_coordinate=True,
        logger='silent')
    assert 0 < expected < 1
    assert results['pascal_voc/mAP'] == pytest.approx(expected, abs=1e-6)
    assert abs(legacy - expected) > 0.01  # the case does tell them apart


def test_detections_of_ignored_labels_are_dropped():
    # class 2: image 0 has a lesion found at .6; image 1 is labelled with
    # class 2 but has no class-2 box, and the model finds it at .9
    # plain: .9 FP, .6 TP -> precision 0, .5; recall 0, 1 -> AP .5
    # ignored: .6 TP alone -> AP 1
    def case(ignored):
        return [
            sample(0, [[10, 10, 40, 40]], [2], [[10, 10, 40, 40]], [0.6],
                   [2]),
            sample(1, [], [], [[20, 20, 50, 50]], [0.9], [2],
                   ignored_labels=ignored),
        ]

    plain = evaluate(CXRVOCMetric(iou_thrs=[0.4]), case([]))
    assert plain['pascal_voc/mAP'] == pytest.approx(0.5, abs=1e-6)
    ignored = evaluate(CXRVOCMetric(iou_thrs=[0.4]), case([2]))
    assert ignored['pascal_voc/mAP'] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"ignored_labels of 'img_1.png'"):
        evaluate(CXRVOCMetric(iou_thrs=[0.4]), case([6]))
