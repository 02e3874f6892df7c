# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Synthetic predictions through the config's three evaluators."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cxr_mmdet.benchmarks.evaluation import (benchmark_evaluation,
                                             synthetic_eval_samples)

CONFIG = str(
    Path(__file__).resolve().parents[2] / 'configs' / 'ssd' /
    'ssd300_vgg16_1xb64-300e_cxr6.py')


def test_samples_look_like_the_test_pipeline_output():
    samples = synthetic_eval_samples(20, dets_per_image=30, seed=2)
    assert len(samples) == 20
    negatives = 0
    for s in samples:
        meta = s.metainfo
        for key in ('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances', 'img_labels'):
            assert key in meta
        labels = s.gt_instances.labels.numpy()
        assert len(meta['instances']) == len(labels)
        flags = np.zeros(6, int)
        flags[labels] = 1
        assert meta['img_labels'] == flags.tolist()
        negatives += len(labels) == 0
        pred = s.pred_instances
        assert len(pred.bboxes) == 30
        assert (pred.bboxes[:, 2:] > pred.bboxes[:, :2]).all()
        assert (np.diff(pred.scores.numpy()) <= 0).all()
    assert 0 < negatives < 20


def test_benchmark_evaluation_runs_all_three_metrics():
    out = benchmark_evaluation(CONFIG, num_images=40, dets_per_image=20)
    names = out['metric_names']
    assert 'coco/bbox_mAP' in names
    assert 'pascal_voc/mAP' in names
    assert 'cxr/mAUC' in names and 'cxr/FROC' in names
    assert out['total_s'] == out['process_s'] + out['evaluate_s'] > 0
    assert out['images_per_s'] == 40 / out['total_s']
