# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Put the latest losses and validation metrics into every checkpoint."""
from __future__ import annotations

import math
from typing import Any

from mmengine.hooks import Hook

from mmdet.registry import HOOKS


def _to_float(value: Any) -> float | None:
    """Return a plain float for a tensor/numpy/number scalar, else None."""
    try:
        if hasattr(value, 'item'):
            value = value.item()
        value = float(value)
    except (TypeError, ValueError, RuntimeError):
        return None
    return value


@HOOKS.register_module()
class CheckpointMetricsHook(Hook):
    """Record the latest training losses and validation metrics in ``meta``.

    Every checkpoint then holds, as plain Python floats readable with
    ``torch.load`` under the plugin's allow-list:

    - ``meta['train_losses']``: each loss term of the last training
      iteration (``loss``, ``loss_cls``, ``loss_bbox``, ...) and
      ``meta['train_losses_iter']``, the iteration they come from;
    - ``meta['val_metrics']``: every metric of the last validation
      (``coco/bbox_mAP``, ``pascal_voc/mAP``, ``cxr/mAUC``, ...) and
      ``meta['val_metrics_epoch']``, the epoch it ran after.

    mmengine saves ``epoch_N.pth`` before epoch N's validation runs; with
    ``CheckpointAfterValHook`` in the config (all of this project's
    configs) it is saved again after that validation, so it carries epoch
    N's own metrics. Without it, it carries the previous validation's,
    unless that validation set a new best score (mmengine then re-saves
    the last checkpoint). ``val_metrics_epoch`` always says which.
    ``best_*.pth`` is saved after its validation and carries its metrics.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self) -> None:
        self.train_losses: dict[str, float] = {}
        self.train_losses_iter: int | None = None
        self.val_metrics: dict[str, float] = {}
        self.val_metrics_epoch: int | None = None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: dict | None = None) -> None:
        """Keep the loss terms of the iteration that just ran."""
        if not outputs:
            return
        losses = {}
        for key, value in outputs.items():
            if 'loss' in key:
                number = _to_float(value)
                if number is not None:
                    losses[key] = number
        if losses:
            self.train_losses = losses
            self.train_losses_iter = runner.iter + 1

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        """Keep the metrics of the validation that just ran."""
        if not metrics:
            return
        kept = {}
        for key, value in metrics.items():
            number = _to_float(value)
            if number is not None:
                kept[key] = number
        self.val_metrics = kept
        self.val_metrics_epoch = runner.epoch

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Write what was kept into ``checkpoint['meta']``."""
        meta = checkpoint.setdefault('meta', {})
        meta['train_losses'] = dict(self.train_losses)
        meta['train_losses_iter'] = self.train_losses_iter
        meta['val_metrics'] = dict(self.val_metrics)
        meta['val_metrics_epoch'] = self.val_metrics_epoch

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, start from what the checkpoint carried."""
        meta = checkpoint.get('meta', {})
        self.train_losses = dict(meta.get('train_losses', {}))
        self.train_losses_iter = meta.get('train_losses_iter')
        self.val_metrics = dict(meta.get('val_metrics', {}))
        self.val_metrics_epoch = meta.get('val_metrics_epoch')
