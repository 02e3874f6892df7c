# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Reading mmengine's scalars.json and checkpoint names."""
from __future__ import annotations

import math

import pytest

from cxr_mmdet.visualization.scalars import (checkpoint_epochs,
                                             losses_per_epoch,
                                             metrics_per_step, read_scalars)


def test_read_and_aggregate_per_epoch(fake_work_dir):
    work_dir, expected = fake_work_dir
    log = read_scalars(work_dir)
    assert [p.parent.parent.name
            for p in log.files] == ['20260101_000000', '20260102_000000']
    assert len(log.skipped) == 1 and 'not JSON' in log.skipped[0]
    x_name, xs, losses = losses_per_epoch(log.train)
    assert x_name == 'epoch'
    assert xs == expected['epochs']
    assert list(losses) == ['loss', 'loss_bbox', 'loss_cls']
    # epoch 3 of the first run (loss 18) is replaced by the second run's
    assert losses['loss'] == pytest.approx(expected['loss'])
    assert losses['loss_cls'] == pytest.approx(expected['loss_cls'])
    steps, metrics = metrics_per_step(log.val,
                                      ['coco/bbox_mAP_50', 'cxr/nothing'])
    assert steps == expected['epochs']
    assert metrics == {'coco/bbox_mAP_50': expected['map50']}
    # default keys: every numeric metric, no timing keys
    _, metrics = metrics_per_step(log.val)
    assert 'cxr/mAUC' in metrics and 'step' not in metrics
    assert all(not k.startswith('_') for k in metrics)
    # classwise AP only logged at epoch 4
    assert math.isnan(metrics['coco/Cardiomegaly_precision'][0])
    assert metrics['coco/Cardiomegaly_precision'][3] == pytest.approx(0.1)


def test_hierarchical_keys_and_iteration_logs(tmp_path, jsonl_writer):
    jsonl_writer(tmp_path / 'w/20260101_000000/vis_data/scalars.json', [
        {
            'train/loss': 2.0,
            'train/lr': 0.1,
            'iter': 10,
            'step': 10
        },
        {
            'train/loss': 1.0,
            'train/lr': 0.1,
            'iter': 20,
            'step': 20
        },
        {
            'val/coco/bbox_mAP': 0.3,
            'step': 20
        },
        {
            'weird': 1
        },
    ])
    log = read_scalars(tmp_path / 'w')
    x_name, xs, losses = losses_per_epoch(log.train)
    assert (x_name, xs, losses) == ('iter', [10, 20], {'loss': [2.0, 1.0]})
    assert metrics_per_step(log.val) == ([20], {'coco/bbox_mAP': [0.3]})
    assert log.skipped and 'neither' in log.skipped[0]


def test_checkpoint_epochs(fake_work_dir):
    work_dir, expected = fake_work_dir
    assert checkpoint_epochs(work_dir) == expected['ckpt_epochs']
    assert checkpoint_epochs(
        work_dir, ckpt_interval=3, max_epoch=7) == [2, 3, 4, 6]
    with pytest.raises(ValueError, match='ckpt_interval'):
        checkpoint_epochs(work_dir, ckpt_interval=0)


def test_empty_work_dir_reads_nothing(tmp_path):
    log = read_scalars(tmp_path)
    assert (log.files, log.train, log.val) == ([], [], [])
    assert losses_per_epoch([]) == ('iter', [], {})
