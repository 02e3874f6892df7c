# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A correct detection of a class the image is labelled with but has no
box of (``ignored_labels``) lowers no detection metric: real pycocotools
(CXRCocoMetric), eval_map (CXRVOCMetric) and FROC (CXRROCMetric) on one
hand-made case; image-level AUC reads the complete ``img_labels``."""
from __future__ import annotations

import logging

import pytest
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger

from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.evaluation.metrics import (CXRCocoMetric, CXRROCMetric,
                                          CXRVOCMetric)
from cxr_mmdet.testing import eval_sample

META = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)
EFFUSION = CXR_CLASSES.index('Pleural effusion')


def sample(index, gt_boxes, box, score, img_labels, ignored_labels):
    """A 100x100 image with class-``EFFUSION`` boxes and one detection."""
    flags = [0] * len(CXR_CLASSES)
    for c in img_labels:
        flags[c] = 1
    return eval_sample(
        index,
        100,
        gt_boxes, [EFFUSION] * len(gt_boxes),
        flags, ([box], [score], [EFFUSION]),
        img_path=f'img_{index}.png',
        ignored_labels=ignored_labels)


def case(with_ignored_labels: bool):
    """Image 0: an effusion box, found at .6. Image 1: labelled effusion,
    no box (``ignored_labels``), found at .9. Image 2: normal, a false
    positive at .3."""
    ignored = [EFFUSION] if with_ignored_labels else []
    return [
        sample(0, [[10, 10, 40, 40]], [10, 10, 40, 40], 0.6, [EFFUSION], []),
        sample(1, [], [20, 20, 50, 50], 0.9, [EFFUSION], ignored),
        sample(2, [], [60, 60, 90, 90], 0.3, [], []),
    ]


def evaluate(samples):
    evaluator = Evaluator([
        CXRCocoMetric(ann_file=None, metric='bbox', classwise=True),
        CXRVOCMetric(iou_thrs=[0.4]),
        CXRROCMetric(),
    ])
    evaluator.dataset_meta = META
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        for s in samples:
            evaluator.process(data_samples=[s])
        return evaluator.evaluate(len(samples))
    finally:
        logger.setLevel(level)


def test_a_boxless_finding_counts_as_a_false_positive_without_the_labels():
    # effusion detections by score: .9 FP (image 1), .6 TP, .3 FP
    # COCO and VOC: precision 0, 1/2, 1/3 at recall 0, 1, 1 -> the
    # precision envelope is 1/2 at every recall: AP 0.5 at every IoU
    # FROC, 3 images, 1 lesion: (0, 0), (1/3, 0), (1/3, 1), (2/3, 1):
    # 1/8 and 1/4 FPs/image read 0, the five others 1 -> 5/7
    results = evaluate(case(False))
    assert results['coco/bbox_mAP'] == 0.5
    assert results['coco/bbox_mAP_50'] == 0.5
    assert results['coco/Pleural effusion_precision'] == 0.5
    assert results['coco/Pleural effusion_precision_50'] == 0.5
    assert results['pascal_voc/mAP'] == pytest.approx(0.5, abs=1e-6)
    assert results['cxr/FROC'] == pytest.approx(5 / 7, abs=1e-12)


def test_a_boxless_finding_is_ignored_with_the_labels():
    # .9 ignored: .6 TP, .3 FP -> precision 1, 1/2 at recall 1: AP 1
    # FROC: (0, 0), (0, 1), (1/3, 1): sensitivity 1 at every rate
    results = evaluate(case(True))
    assert results['coco/bbox_mAP'] == 1.0
    assert results['coco/bbox_mAP_50'] == 1.0
    assert results['coco/Pleural effusion_precision_50'] == 1.0
    assert results['pascal_voc/mAP'] == pytest.approx(1.0, abs=1e-6)
    assert results['cxr/FROC'] == pytest.approx(1.0, abs=1e-12)


def test_image_level_auc_reads_the_complete_labels():
    # effusion image scores .6 (positive), .9 (positive: labelled, no
    # box), .3 (negative): both positives rank above the negative, AUC 1.
    # (From the boxes alone, image 1 would be a negative above image 0:
    # AUC (0 + 1) / 2 = 0.5.)
    for with_ignored in (False, True):
        results = evaluate(case(with_ignored))
        assert results['cxr/AUC_Pleural_effusion'] == 1.0


def test_other_classes_are_still_counted():
    # ignoring Cardiomegaly in image 1 leaves its effusion finding an FP
    samples = case(False)
    samples[1].set_metainfo(
        dict(ignored_labels=[CXR_CLASSES.index('Cardiomegaly')]))
    results = evaluate(samples)
    assert results['coco/bbox_mAP'] == 0.5
    assert results['pascal_voc/mAP'] == pytest.approx(0.5, abs=1e-6)


def test_an_ignored_class_with_a_box_is_an_error():
    # image 0 has an effusion box: effusion cannot be boxless there
    samples = case(False)
    samples[0].set_metainfo(dict(ignored_labels=[EFFUSION]))
    for metric in (CXRCocoMetric(ann_file=None), CXRVOCMetric(),
                   CXRROCMetric()):
        evaluator = Evaluator(metric)
        evaluator.dataset_meta = META
        with pytest.raises(ValueError, match='classes without a box'):
            evaluator.process(data_samples=samples)
            evaluator.evaluate(len(samples))
