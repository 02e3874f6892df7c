# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""CXRROCMetric on real mmdet data samples, through mmengine's Evaluator,
on one and on two ranks."""
from __future__ import annotations

import logging
import math
import pickle
import socket

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from sklearn.metrics import roc_auc_score

from .cxr_metric_cases import make_case, to_data_sample
from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE, class_key
from cxr_mmdet.evaluation.functional import FROC_FP_RATES, froc_score
from cxr_mmdet.evaluation.metrics import CXRROCMetric
from mmdet.registry import METRICS

META = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)


def evaluate(images, metric=None, meta=META, **sample_kwargs):
    """Run the images through a real Evaluator, return (metrics, metric)."""
    metric = metric or CXRROCMetric()
    evaluator = Evaluator(metric)
    evaluator.dataset_meta = meta
    samples = [
        to_data_sample(im, i, **sample_kwargs) for i, im in enumerate(images)
    ]
    for start in range(0, len(samples), 4):  # batches of 4
        evaluator.process(data_samples=samples[start:start + 4])
    return evaluator.evaluate(len(samples)), metric


def expected_aucs(images):
    """Independent reference: max score per class, sklearn's AUC."""
    scores = np.zeros((len(images), 6))
    for i, im in enumerate(images):
        for label, score in zip(im['pred_labels'], im['pred_scores']):
            scores[i, label] = max(scores[i, label], score)
    targets = np.stack([im['img_labels'] for im in images])
    return {
        c: roc_auc_score(targets[:, c], scores[:, c])
        for c in range(6) if 0 < targets[:, c].sum() < len(images)
    }


class LogCapture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def captured_log():
    logger = MMLogger.get_instance('test_cxr_roc_metric')
    handler = LogCapture()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_registered_with_cxr_prefix():
    metric = METRICS.build(dict(type='CXRROCMetric', iou_thr=0.5))
    assert isinstance(metric, CXRROCMetric)
    assert metric.prefix == 'cxr' and metric.iou_thr == 0.5
    with pytest.raises(ValueError, match='iou_thr'):
        CXRROCMetric(iou_thr=0)
    with pytest.raises(ValueError, match='fp_rates'):
        CXRROCMetric(fp_rates=(1, -1))


def test_metrics_on_data_samples(detection_case, captured_log):
    results, metric = evaluate(detection_case)
    expected = expected_aucs(detection_case)
    assert sorted(expected) == [0, 2, 3, 4]  # 1: no negative, 5: no pos
    auc_keys = [f'cxr/AUC_{class_key(CXR_CLASSES[c])}' for c in expected]
    assert 'cxr/AUC_Nodule_Mass' in auc_keys
    froc_keys = ['cxr/FROC'] + [f'cxr/FROC@{r:g}' for r in FROC_FP_RATES]
    assert sorted(results) == sorted(auc_keys + ['cxr/mAUC'] + froc_keys)
    for c, key in zip(expected, auc_keys):
        assert abs(results[key] - expected[c]) < 1e-9
    assert results['cxr/mAUC'] == pytest.approx(
        np.mean(list(expected.values())), abs=1e-12)
    froc = froc_score(*[[im[k] for im in detection_case]
                        for k in ('pred_bboxes', 'pred_scores', 'pred_labels',
                                  'gt_bboxes', 'gt_labels')])
    assert results['cxr/FROC'] == pytest.approx(froc['froc'])
    assert results['cxr/FROC@8'] == pytest.approx(froc['sensitivities'][-1])
    assert 0 < results['cxr/FROC'] <= 1
    # the classes without an AUC are named in warnings, never given 0.5
    warnings = '\n'.join(captured_log.messages)
    assert "'Pleural thickening' has 12 positive and 0 negative" in warnings
    assert "'Infiltration' has 0 positive and 12 negative" in warnings
    # the curves stay available for ROCCurveHook
    assert sorted(metric.last_curves) == sorted(CXR_CLASSES[c]
                                                for c in expected)
    curve = metric.last_curves['Nodule/Mass']
    assert curve['auc'] == results['cxr/AUC_Nodule_Mass']
    assert curve['fpr'][0] == 0 and curve['tpr'][-1] == 1
    assert curve['thresholds'][0] == np.inf
    assert curve['num_pos'] + curve['num_neg'] == 12
    assert metric.last_missing == {
        'Pleural thickening': dict(num_pos=12, num_neg=0),
        'Infiltration': dict(num_pos=0, num_neg=12)
    }
    assert metric.last_froc['num_lesions'] == sum(
        len(im['gt_labels']) for im in detection_case)
    assert metric.results == []  # cleared for the next evaluation


def test_plain_tensor_boxes_and_derived_image_labels(detection_case,
                                                     captured_log):
    reference, _ = evaluate(detection_case)
    results, _ = evaluate(
        detection_case, box_type=False, with_img_labels=False)
    assert results == pytest.approx(reference)
    assert any('12 of 12 data samples had no "img_labels"' in m
               for m in captured_log.messages)


def test_image_labels_come_from_metainfo_not_boxes(detection_case):
    # a positive image whose boxes were all dropped still counts
    images = [dict(im) for im in detection_case]
    images[0]['img_labels'] = images[0]['img_labels'].copy()
    images[0]['img_labels'][5] = 1  # Infiltration, no box anywhere
    results, metric = evaluate(images)
    assert 'cxr/AUC_Infiltration' in results
    assert metric.last_curves['Infiltration']['num_pos'] == 1


def test_no_valid_class_and_no_lesion(captured_log):
    empty = np.zeros((0, 4), np.float32)
    images = [
        dict(
            gt_bboxes=empty,
            gt_labels=np.zeros(0, np.int64),
            img_labels=np.zeros(6, np.int64),
            pred_bboxes=empty,
            pred_scores=np.zeros(0, np.float32),
            pred_labels=np.zeros(0, np.int64))
    ] * 3
    results, metric = evaluate(images)
    assert results == {}
    assert metric.last_curves == {} and len(metric.last_missing) == 6
    joined = '\n'.join(captured_log.messages)
    assert 'mAUC not reported' in joined and 'FROC not reported' in joined


def test_bad_image_labels_are_rejected(detection_case):
    images = [dict(detection_case[0], img_labels=np.array([1, 0, 2, 0, 0, 0]))]
    with pytest.raises(ValueError, match="img_0.png' must be 6 flags"):
        evaluate(images)


def test_class_names_from_dataset_meta(detection_case):
    names = ('a', 'b', 'c d', 'e', 'f', 'g/h')
    results, metric = evaluate(detection_case, meta=dict(classes=names))
    assert metric.class_names == names
    assert 'cxr/AUC_c_d' in results and 'cxr/AUC_g_h' not in results
    assert CXRROCMetric().class_names == CXR_CLASSES


def test_calculate_is_pure_and_matches_sklearn():
    rng = np.random.default_rng(3)
    scores = np.round(rng.random((50, 3)), 1)
    targets = (rng.random((50, 3)) < 0.4).astype(int)
    out = CXRROCMetric.calculate(scores, targets, ['x', 'y', 'z'])
    for c, name in enumerate('xyz'):
        assert abs(out['metrics'][f'AUC_{name}'] -
                   roc_auc_score(targets[:, c], scores[:, c])) < 1e-9
    assert 'FROC' not in out['metrics'] and out['froc'] is None
    with pytest.raises(ValueError, match=r'\(N, 2\)'):
        CXRROCMetric.calculate(scores, targets, ['x', 'y'])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_worker(rank: int, world_size: int, port: int, out_file: str):
    torch_dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size)
    try:
        images = make_case()
        # DefaultSampler's split: rank r gets images r, r + ws, ...
        metric = CXRROCMetric()
        evaluator = Evaluator(metric)
        evaluator.dataset_meta = META
        for i in range(rank, len(images), world_size):
            evaluator.process(data_samples=[to_data_sample(images[i], i)])
        results = evaluator.evaluate(len(images))
        with open(f'{out_file}.{rank}', 'wb') as f:
            pickle.dump(dict(results=results, curves=metric.last_curves), f)
    finally:
        torch_dist.destroy_process_group()


def test_two_ranks_give_the_single_process_metrics(tmp_path):
    single, metric = evaluate(make_case())
    out_file = str(tmp_path / 'dist')
    mp.spawn(
        _dist_worker, args=(2, _free_port(), out_file), nprocs=2, join=True)
    for rank in (0, 1):
        with open(f'{out_file}.{rank}', 'rb') as f:
            got = pickle.load(f)
        # every rank receives the metrics computed on rank 0 ...
        assert got['results'] == pytest.approx(single)
        assert not any(math.isnan(v) for v in got['results'].values())
    # ... which alone holds the curves, computed on all images
    with open(f'{out_file}.0', 'rb') as f:
        curves = pickle.load(f)['curves']
    assert sorted(curves) == sorted(metric.last_curves)
    for name, curve in curves.items():
        np.testing.assert_array_equal(curve['fpr'],
                                      metric.last_curves[name]['fpr'])
        assert curve['num_pos'] + curve['num_neg'] == 12
    with open(f'{out_file}.1', 'rb') as f:
        assert pickle.load(f)['curves'] is None
