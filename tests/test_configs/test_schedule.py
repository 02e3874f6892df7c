# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The main config's LR schedule under a real Runner cannot collapse."""
from __future__ import annotations

import os.path as osp
import uuid

import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN = osp.join(ROOT, 'configs', 'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')
ITERS_PER_EPOCH = 3
EPOCHS = 40


class ToyModel(BaseModel):
    """One linear layer: a loss to step on, predictions to validate."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return list(out)


class StuckMAP(BaseMetric):
    """A validation metric that always reads 0.000."""

    default_prefix = 'coco'

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0.0)

    def compute_metrics(self, results: list) -> dict:
        return dict(bbox_mAP=0.0)


class RecordLR(Hook):
    """The LR each training iteration ran with, and after each val."""

    def __init__(self) -> None:
        self.iter_lr: list[float] = []
        self.val_lr: list[float] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.iter_lr.append(runner.optim_wrapper.get_lr()['lr'][0])

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.val_lr.append(runner.optim_wrapper.get_lr()['lr'][0])


def test_stuck_metric_never_takes_the_lr_below_min_value(tmp_path):
    cfg = Config.fromfile(MAIN)
    warmup, plateau = cfg.param_scheduler
    base_lr = cfg.optim_wrapper.optimizer.lr
    record = RecordLR()
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        experiment_name=f'sched_{uuid.uuid4().hex[:8]}',
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2))] * ITERS_PER_EPOCH,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=1,
            num_workers=0),
        val_dataloader=dict(
            dataset=[dict(inputs=torch.ones(2))],
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=1,
            num_workers=0),
        val_evaluator=Evaluator(StuckMAP()),
        val_cfg=dict(),
        optim_wrapper=dict(
            type='OptimWrapper',
            optimizer=cfg.optim_wrapper.optimizer.to_dict()),
        param_scheduler=[s.to_dict() for s in cfg.param_scheduler],
        train_cfg=dict(by_epoch=True, max_epochs=EPOCHS, val_interval=1),
        default_hooks=dict(
            checkpoint=None, logger=dict(type='LoggerHook', interval=50)),
        custom_hooks=[record],
        default_scope='mmengine')
    runner.train()

    lrs = record.iter_lr
    assert len(lrs) == EPOCHS * ITERS_PER_EPOCH
    warmup_iters = warmup.end * ITERS_PER_EPOCH
    # warm-up first: from start_factor x base, rising every iteration
    assert abs(lrs[0] - base_lr * warmup.start_factor) < 1e-12
    assert all(b > a for a, b in zip(lrs[:warmup_iters],
                                     lrs[1:warmup_iters]))
    assert abs(lrs[warmup_iters] - base_lr) < 1e-12
    # no reduction before the warm-up ends and the plateau has lasted
    assert max(lrs) == lrs[warmup_iters]
    first_cut = next(i for i in range(warmup_iters, len(lrs))
                     if lrs[i] < lrs[warmup_iters])
    assert first_cut // ITERS_PER_EPOCH == plateau.begin + plateau.patience + 1
    # the stuck metric halves the LR down to min_value, never below
    assert min(lrs[warmup_iters:]) >= plateau.min_value
    assert min(record.val_lr) >= plateau.min_value
    assert abs(lrs[-1] - plateau.min_value) < 1e-15
    cuts = sorted(set(lrs[warmup_iters:]), reverse=True)
    assert len(cuts) > 2
    for high, low in zip(cuts, cuts[1:]):
        assert low == max(high * plateau.factor, plateau.min_value)
