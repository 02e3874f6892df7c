# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A real mmengine ``Runner`` over a tiny regression model, for the hooks,
optim wrappers and checkpoint code that need one."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from mmengine.model import BaseModel
from torch.utils.data import Dataset


class ToyRegressor(BaseModel):
    """Fits ``labels`` from ``inputs`` by mean squared error.

    Subclasses build their layers in ``__init__`` and map ``inputs`` (B, ...)
    to predictions (B, 1) in :meth:`predict_tensor`. Mode ``'predict'``
    returns ``[predictions]`` (what a test loop's evaluator takes).
    """

    def predict_tensor(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs, labels=None, mode: str = 'tensor'):
        out = self.predict_tensor(inputs)
        if mode == 'loss':
            return dict(loss=((out.float() - labels)**2).mean())
        if mode == 'predict':
            return [out]
        return out


class ToyDataset(Dataset):
    """``length`` samples ``dict(inputs=x, labels=target(x))`` with
    ``x = sample(idx)``."""
    metainfo: dict = dict()

    def __init__(self, length: int, sample: Callable[[int], torch.Tensor],
                 target: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.length = length
        self.sample = sample
        self.target = target

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int) -> dict:
        x = self.sample(idx)
        return dict(inputs=x, labels=self.target(x))


def toy_loader(dataset: Dataset,
               shuffle: bool = True,
               batch_size: int = 4,
               collate_fn: str = 'default_collate',
               **kwargs) -> dict:
    """A dataloader dict over ``dataset`` (DefaultSampler, no workers
    unless ``kwargs`` say otherwise)."""
    kwargs.setdefault('num_workers', 0)
    kwargs.setdefault('sampler',
                      dict(type='DefaultSampler', shuffle=shuffle))
    return dict(
        dataset=dataset,
        collate_fn=dict(type=collate_fn),
        batch_size=batch_size,
        **kwargs)


def toy_runner(work_dir: str | Path,
               model,
               dataset: Dataset,
               epochs: int = 1,
               lr: float = 0.01,
               momentum: float = 0.9,
               seed: int | None = 0,
               loader: dict | None = None,
               **kwargs):
    """A Runner training ``model`` on ``dataset`` for ``epochs`` epochs.

    SGD(``lr``, ``momentum``), a log line and a checkpoint every epoch,
    ``randomness=dict(seed=seed)`` (None: mmengine draws one), scope
    ``mmengine`` and an experiment name of its own (mmengine keeps one
    message hub per name); ``loader`` updates :func:`toy_loader`'s
    arguments and ``kwargs`` any other ``Runner`` argument.
    """
    from mmengine.runner import Runner
    kwargs.setdefault(
        'optim_wrapper',
        dict(optimizer=dict(type='SGD', lr=lr, momentum=momentum)))
    kwargs.setdefault(
        'default_hooks',
        dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)))
    kwargs.setdefault('default_scope', 'mmengine')
    kwargs.setdefault('randomness', dict(seed=seed))
    kwargs.setdefault('experiment_name',
                      f'toy_{work_dir}_{os.getpid()}_{time.time()}')
    return Runner(
        model=model,
        work_dir=str(work_dir),
        train_dataloader=toy_loader(dataset, **(loader or {})),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        **kwargs)
