# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Intervals and per-source figures of the configs' evaluators, from the
matches the metrics keep."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cxr_mmdet.evaluation import (bootstrap_intervals, metrics_by_source,
                                  resampled_metrics)
from cxr_mmdet.testing import run_evaluator, synthetic_eval_samples


@pytest.fixture(scope='module')
def evaluated():
    # 150 boxes an image: above the 100 that bbox_mAP reads
    samples = synthetic_eval_samples(80, dets_per_image=150, seed=4)
    evaluator, metrics = run_evaluator(samples)
    return evaluator, metrics, [s.img_id for s in samples]


def test_values_are_the_evaluators_and_intervals_contain_them(evaluated):
    evaluator, metrics, img_ids = evaluated
    groups = [i // 3 for i in range(len(img_ids))]  # 3 images a patient
    intervals = bootstrap_intervals(evaluator.metrics, img_ids, groups, 200)
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'pascal_voc/mAP',
                'cxr/mAUC', 'cxr/FROC', 'coco/Nodule/Mass_precision_50',
                'cxr/AUC_Nodule_Mass'):
        assert key in intervals
    for key, ci in intervals.items():
        assert key in metrics
        # mmdet rounds the COCO figures and AP40 to 3 decimals
        assert math.isclose(ci['value'], metrics[key], abs_tol=5e-4), key
        assert ci['low'] <= ci['value'] <= ci['high'], (key, ci)
        assert ci['n_boot'] == 200 and ci['level'] == 0.95


def test_one_source_alone_is_a_zero_one_weighting(evaluated):
    evaluator, metrics, img_ids = evaluated
    sources = ['nih'] * 30 + ['vinbig'] * 50
    by_source = metrics_by_source(evaluator.metrics, img_ids, sources,
                                  num_boxes=[1] * 80)
    assert by_source['nih']['counts'] == dict(images=30, boxes=30)
    assert by_source['vinbig']['counts'] == dict(images=50, boxes=50)
    weights = np.zeros((1, 80))
    weights[0, :30] = 1
    nih = resampled_metrics(evaluator.metrics, img_ids, weights)
    assert by_source['nih']['metrics']['cxr/mAUC'] == nih['cxr/mAUC'][0]
    assert set(by_source['nih']['metrics']) == set(nih)


def test_an_image_without_a_group_is_an_error(evaluated):
    evaluator, _, img_ids = evaluated
    with pytest.raises(ValueError, match='without a group'):
        bootstrap_intervals(evaluator.metrics, img_ids[1:],
                            range(len(img_ids) - 1), 10)
