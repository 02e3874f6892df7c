# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""CXRCocoMetric: mmdet's CocoMetric with a faster results writer gives
the same results file and the same figures."""
from __future__ import annotations

import copy
import logging
import math
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from cxr_mmdet.testing import synthetic_eval_samples
from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.evaluation.metrics import CXRCocoMetric, bbox_results_to_coco
from cxr_mmdet.evaluation.metrics.cxr_coco_metric import _RECORDS
from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS

META = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)
#: the COCO evaluator of the configs, as they run it
ARGS = {
    k: v
    for k, v in Config.fromfile(
        osp.join(osp.dirname(__file__), '..', '..', 'configs', '_base_',
                 'datasets', 'cxr6_voc.py')).val_evaluator[0].items()
    if k != 'type'
}


def _run(metric_cls, samples, **kwargs):
    metric = metric_cls(**ARGS, **kwargs)
    metric.dataset_meta = META
    for sample in samples:
        metric.process({}, [copy.deepcopy(sample).to_dict()])
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        return metric.evaluate(len(samples))
    finally:
        logger.setLevel(level)


def assert_same_figures(ours, stock):
    """Equal keys and values; NaN (a class without boxes) equals NaN. Ours
    adds the per-class AP@.5 keys (``coco/<class>_precision_50``)."""
    ours = {k: v for k, v in ours.items() if not k.endswith('_precision_50')}
    assert set(ours) == set(stock)
    for key, value in stock.items():
        assert ours[key] == value or (math.isnan(ours[key])
                                      and math.isnan(value)), key


def test_registered_in_mmdet_metrics():
    assert METRICS.get('CXRCocoMetric') is CXRCocoMetric
    assert ARGS['classwise'] and ARGS['ann_file'] is None
    assert issubclass(CXRCocoMetric, CocoMetric)


def test_same_results_file_as_cocometric(tmp_path):
    samples = synthetic_eval_samples(num_images=20, dets_per_image=30)
    ours = _run(CXRCocoMetric, samples, outfile_prefix=str(tmp_path / 'ours'))
    stock = _run(CocoMetric, samples, outfile_prefix=str(tmp_path / 'stock'))
    # byte for byte: same records, same order, same float text
    ours_text = (tmp_path / 'ours.bbox.json').read_text()
    stock_text = (tmp_path / 'stock.bbox.json').read_text()
    assert len(ours_text) > 1000
    assert ours_text == stock_text
    assert_same_figures(ours, stock)


def test_same_figures_as_cocometric_on_a_learned_looking_case():
    """Non-trivial figures (neither 0 nor 1), equal to the last digit."""
    samples = synthetic_eval_samples(num_images=60, dets_per_image=50, seed=3)
    ours = _run(CXRCocoMetric, samples)
    stock = _run(CocoMetric, samples)
    assert 'coco/bbox_mAP' in ours and 'coco/Cardiomegaly_precision' in ours
    assert 0.05 < ours['coco/bbox_mAP_50'] < 0.95
    assert_same_figures(ours, stock)


def test_without_outfile_prefix_no_results_file_is_written(
        tmp_path, monkeypatch):
    """The records go to CocoMetric's loadRes in memory; only a handle
    file lands in the temporary folder, and memory is released after."""
    import tempfile
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    written = []
    original = CXRCocoMetric.results2json

    def spy(self, results, outfile_prefix):
        files = original(self, results, outfile_prefix)
        written.append((files, sorted(p.name for p in tmp_path.rglob('*.*'))))
        return files

    monkeypatch.setattr(CXRCocoMetric, 'results2json', spy)
    samples = synthetic_eval_samples(num_images=10, dets_per_image=20)
    ours = _run(CXRCocoMetric, samples)
    assert_same_figures(ours, _run(CocoMetric, samples))
    ((files, names), ) = written
    assert files['bbox'].endswith('.bbox.cxr_coco_records')
    assert not any(n.endswith('.bbox.json') for n in names)
    assert _RECORDS == {}


def test_a_stale_handle_is_a_clear_error(tmp_path):
    from mmengine.fileio import load
    path = tmp_path / 'results.bbox.cxr_coco_records'
    path.write_text('not-a-handle')
    with pytest.raises(FileNotFoundError, match='not-a-handle'):
        load(str(path))


def test_records_match_mmdets_per_box_conversion():
    rng = np.random.default_rng(0)
    boxes = rng.uniform(0, 300, (7, 4)).astype(np.float32)
    boxes[:, 2:] += boxes[:, :2]
    scores = rng.uniform(0, 1, 7).astype(np.float32)
    labels = np.array([0, 5, 2, 2, 1, 4, 3])
    results = [
        dict(img_id='a', bboxes=boxes, scores=scores, labels=labels),
        dict(
            bboxes=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float32),
            labels=np.zeros(0, np.int64))
    ]
    cat_ids = [10, 11, 12, 13, 14, 15]
    records = bbox_results_to_coco(results, cat_ids)
    metric = CocoMetric(ann_file=None)
    expected = [
        dict(
            image_id='a',
            bbox=metric.xyxy2xywh(boxes[i]),
            score=float(scores[i]),
            category_id=cat_ids[labels[i]]) for i in range(7)
    ]
    assert records == expected
    assert all(type(v) is float for r in records for v in r['bbox'])
    assert all(type(r['category_id']) is int for r in records)


def test_mask_results_use_cocometrics_writer(tmp_path):
    metric = CXRCocoMetric(ann_file=None)
    metric.cat_ids = list(range(6))
    result = dict(
        img_id=1,
        bboxes=np.array([[0, 0, 4, 4]], np.float32),
        scores=np.array([0.5], np.float32),
        labels=np.array([0]),
        masks=[dict(size=[8, 8], counts=b'0')])
    files = metric.results2json([result], str(tmp_path / 'r'))
    assert set(files) == {'bbox', 'proposal', 'segm'}
    with pytest.raises(KeyError):
        bbox_results_to_coco([dict(bboxes=np.zeros((1, 4)))], [0])


def test_per_class_ap50_from_pycocotools(tmp_path):
    """``coco/<class>_precision_50`` is pycocotools' AP at IoU .5 of that
    class alone, evaluated here from the JSON files mmdet writes."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    samples = synthetic_eval_samples(num_images=40, dets_per_image=30, seed=5)
    ours = _run(CXRCocoMetric, samples, outfile_prefix=str(tmp_path / 'r'))
    gt = COCO(str(tmp_path / 'r.gt.json'))
    dt = gt.loadRes(str(tmp_path / 'r.bbox.json'))
    checked = 0
    for cat_id, name in enumerate(CXR_CLASSES):
        key = f'coco/{name}_precision_50'
        if not gt.getAnnIds(catIds=[cat_id]):
            assert math.isnan(ours[key])
            continue
        coco_eval = COCOeval(gt, dt, 'bbox')
        coco_eval.params.catIds = [cat_id]
        coco_eval.params.maxDets = list(ARGS.get('proposal_nums',
                                                 (100, 300, 1000)))
        coco_eval.params.iouThrs = np.array([0.5])
        coco_eval.evaluate()
        coco_eval.accumulate()
        precision = coco_eval.eval['precision'][0, :, 0, 0, -1]
        expected = float(np.mean(precision[precision > -1]))
        assert ours[key] == round(expected, 3), name
        checked += 1
    assert checked >= 3
    # and AP@.5 is at least AP@[.5:.95] for every class
    for name in CXR_CLASSES:
        if not math.isnan(ours[f'coco/{name}_precision']):
            assert ours[f'coco/{name}_precision_50'] >= ours[
                f'coco/{name}_precision']
