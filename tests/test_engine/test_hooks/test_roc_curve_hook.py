# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ROCCurveHook through real mmengine Runners (train+val, test, test-only
from a checkpoint), and the plots of the work dir those runs leave."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from PIL import Image
from sklearn.metrics import roc_auc_score
from torch import nn
from torch.utils.data import Dataset

import cxr_mmdet.engine.hooks.roc_curve_hook  # noqa: F401  (registers)
import cxr_mmdet.evaluation.metrics  # noqa: F401
from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE, class_key
from cxr_mmdet.engine.hooks import ROCCurveHook
from cxr_mmdet.testing import eval_sample
from cxr_mmdet.visualization.work_dir_plots import plot_work_dir

NUM_IMAGES = 10


def toy_images():
    """Per image: GT boxes/labels, flags, and the detections the toy model
    will return. Class 0 detections are noisy, class 2 perfect, class 3 is
    in every image, class 5 in none."""
    rng = np.random.default_rng(0)
    images = []
    for i in range(NUM_IMAGES):
        labels = [3] + [c for c in (0, 1, 2, 4) if (i + c) % 3 == 0]
        boxes = [[10 * c, 10 * c, 10 * c + 30, 10 * c + 30] for c in labels]
        flags = np.zeros(6, np.int64)
        flags[labels] = 1
        pred_labels = list(labels) + [0, 1]
        pred_boxes = boxes + [[200, 200, 220, 220], [150, 10, 170, 30]]
        pred_scores = [round(float(rng.uniform(0.4, 1)), 2) for _ in labels]
        pred_scores += [round(float(rng.uniform(0, 0.7)), 2), 0.2]
        images.append(
            dict(
                labels=labels,
                boxes=boxes,
                flags=flags,
                pred_labels=pred_labels,
                pred_boxes=pred_boxes,
                pred_scores=pred_scores))
    return images


class ToyCXRDataset(Dataset):
    """Packs samples like mmdet's PackDetInputs (boxes as HorizontalBoxes,
    ``img_labels`` in the metainfo)."""

    metainfo = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)

    def __init__(self):
        self.images = toy_images()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        im = self.images[idx]
        sample = eval_sample(
            idx,
            256,
            im['boxes'],
            im['labels'],
            im['flags'].tolist(),
            img_path=f'toy_{idx}.png',
            toy_idx=idx)
        return dict(inputs=torch.zeros(3, 8, 8), data_samples=sample)


class ToyDetector(BaseModel):
    """Learns one weight; predicts the detections stored for the image."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(0.0))
        self.images = toy_images()

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            loss_cls = (self.w - 1)**2
            return dict(loss_cls=loss_cls, loss_bbox=0.5 * loss_cls)
        if mode == 'predict':
            for sample in data_samples:
                im = self.images[sample.toy_idx]
                sample.pred_instances = InstanceData(
                    bboxes=torch.tensor(im['pred_boxes'], dtype=torch.float32),
                    scores=torch.tensor(im['pred_scores']),
                    labels=torch.tensor(im['pred_labels']))
            return data_samples
        return inputs


def dataloader():
    return dict(
        dataset=ToyCXRDataset(),
        batch_size=3,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='pseudo_collate'))


def expected_aucs():
    images = toy_images()
    scores = np.zeros((NUM_IMAGES, 6))
    for i, im in enumerate(images):
        for label, score in zip(im['pred_labels'], im['pred_scores']):
            scores[i, label] = max(scores[i, label], score)
    flags = np.stack([im['flags'] for im in images])
    return {
        CXR_CLASSES[c]: roc_auc_score(flags[:, c], scores[:, c])
        for c in range(6) if 0 < flags[:, c].sum() < NUM_IMAGES
    }


def common_cfg(work_dir, name):
    return dict(
        model=ToyDetector(),
        work_dir=str(work_dir),
        experiment_name=name,
        default_scope='mmdet',
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=[dict(type='ROCCurveHook')],
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        log_level='WARNING')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train 2 epochs (val after each), then test, with one Runner."""
    work_dir = tmp_path_factory.mktemp('roc_hook_work')
    runner = Runner(
        train_dataloader=dataloader(),
        val_dataloader=dataloader(),
        test_dataloader=dataloader(),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
        val_cfg=dict(),
        test_cfg=dict(),
        val_evaluator=dict(type='CXRROCMetric'),
        test_evaluator=dict(type='CXRROCMetric'),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        **common_cfg(work_dir, 'roc_hook_train'))
    runner.train()
    test_metrics = runner.test()
    return work_dir, runner, test_metrics


def test_val_and_test_runs_write_png_and_json(trained):
    work_dir, runner, test_metrics = trained
    names = sorted(p.name for p in (work_dir / 'roc').iterdir())
    assert names == [
        'test_2.json', 'test_2.png', 'val_1.json', 'val_1.png', 'val_2.json',
        'val_2.png'
    ]
    for png in (work_dir / 'roc').glob('*.png'):
        with Image.open(png) as im:
            assert im.format == 'PNG' and im.size[0] >= 400
            assert (np.asarray(im.convert('L')) < 200).mean() > 0.01


def test_json_holds_the_curves_and_the_logged_metrics(trained):
    work_dir, runner, test_metrics = trained
    record = json.loads((work_dir / 'roc/test_2.json').read_text())
    assert (record['stage'], record['epoch']) == ('test', 2)
    expected = expected_aucs()
    assert sorted(expected) == [
        'Cardiomegaly', 'Nodule/Mass', 'Pleural thickening',
        'Pulmonary fibrosis'
    ]
    assert sorted(record['classes']) == sorted(expected)
    for name, auc in expected.items():
        curve = record['classes'][name]
        assert abs(curve['auc'] - auc) < 1e-9
        assert curve['thresholds'][0] is None  # +inf, strict JSON
        assert len(curve['fpr']) == len(curve['tpr']) == len(
            curve['thresholds'])
        assert record['metrics'][f'cxr/AUC_{class_key(name)}'] == \
            pytest.approx(auc)
        assert test_metrics[f'cxr/AUC_{class_key(name)}'] == \
            pytest.approx(auc)
    assert sorted(record['missing']) == ['Infiltration', 'Pleural effusion']
    assert record['missing']['Pleural effusion'] == dict(num_pos=10, num_neg=0)
    assert record['froc']['fp_rates'] == [0.125, 0.25, 0.5, 1, 2, 4, 8]
    assert record['froc']['froc'] == pytest.approx(test_metrics['cxr/FROC'])
    assert 'coco/bbox_mAP' not in record['metrics']


def test_test_only_runner_names_output_after_the_checkpoint_epoch(
        trained, tmp_path):
    work_dir, _, _ = trained
    runner = Runner(
        test_dataloader=dataloader(),
        test_cfg=dict(),
        test_evaluator=dict(type='CXRROCMetric'),
        load_from=str(work_dir / 'epoch_1.pth'),
        **common_cfg(tmp_path, 'roc_hook_test_only'))
    metrics = runner.test()
    assert metrics['cxr/mAUC'] > 0.5
    assert sorted(p.name for p in (tmp_path / 'roc').iterdir()) == [
        'test_1.json', 'test_1.png'
    ]


def test_without_a_cxr_metric_the_hook_writes_nothing(tmp_path):
    runner = Runner(
        test_dataloader=dataloader(),
        test_cfg=dict(),
        test_evaluator=dict(type='VOCMetric', iou_thrs=[0.4]),
        **common_cfg(tmp_path, 'roc_hook_no_metric'))
    runner.test()
    assert not (tmp_path / 'roc').exists()
    assert isinstance([h for h in runner.hooks
                       if isinstance(h, ROCCurveHook)][0], ROCCurveHook)


def test_plots_of_the_real_work_dir(trained, tmp_path):
    """plot_metrics.py's function on what mmengine really wrote."""
    work_dir, _, _ = trained
    result = plot_work_dir(work_dir, tmp_path)
    assert sorted(result.written) == [
        'loss_curve', 'metrics', 'per_class', 'roc_curves'
    ]
    from cxr_mmdet.visualization.scalars import (checkpoint_epochs,
                                                 losses_per_epoch,
                                                 metrics_per_step,
                                                 read_scalars)
    log = read_scalars(work_dir)
    assert log.skipped == []
    x_name, xs, losses = losses_per_epoch(log.train)
    assert (x_name, xs) == ('epoch', [1, 2])
    assert list(losses) == ['loss', 'loss_bbox', 'loss_cls']
    assert losses['loss'][1] < losses['loss'][0]  # it learned w -> 1
    steps, metrics = metrics_per_step(log.val)
    assert steps == [1, 2] and 'cxr/mAUC' in metrics
    assert checkpoint_epochs(work_dir) == [1, 2]
