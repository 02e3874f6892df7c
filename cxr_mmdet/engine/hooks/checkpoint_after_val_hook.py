# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Save the epoch's checkpoint again once its validation has run."""
from __future__ import annotations

import os.path as osp

from mmengine.hooks import CheckpointHook, Hook

from mmdet.registry import HOOKS


@HOOKS.register_module()
class CheckpointAfterValHook(Hook):
    """Re-save ``epoch_N.pth`` after epoch N's validation.

    mmengine's ``CheckpointHook`` writes ``epoch_N.pth`` in
    ``after_train_epoch``, before epoch N's validation runs. What that
    validation changes is then missing from the checkpoint:
    ``ReduceOnPlateauLR`` counts a bad epoch or lowers the learning rate
    (in the scheduler and in the optimizer's param groups), and the best
    score moves. mmengine re-saves the checkpoint itself only when the
    validation set a new best score, so a run resumed from any other
    checkpoint skips one plateau step and its learning rate departs from
    the uninterrupted run's.

    This hook runs after ``CheckpointHook.after_val_epoch`` and, when a
    checkpoint was saved for the epoch just validated, saves it again under
    the same name (atomically, see :mod:`cxr_mmdet.compat`) and rewrites
    ``last_checkpoint``. It costs one more checkpoint write per checkpoint
    epoch with a validation, and does nothing in iteration-based training
    or when no checkpoint belongs to the validated epoch.
    """

    priority = 'LOWEST'

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        """Re-save the checkpoint of the validated epoch, if there is one."""
        train_loop = getattr(runner, '_train_loop', None)
        if train_loop is None or isinstance(train_loop, dict):
            return  # a val/test-only runner
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or not hook.by_epoch:
                continue
            last = getattr(hook, 'last_ckpt', None)
            name = hook.filename_tmpl.format(runner.epoch)
            if last is None or osp.basename(str(last)) != name:
                continue
            hook._save_checkpoint_with_step(
                runner, runner.epoch,
                dict(epoch=runner.epoch, iter=runner.iter))
            runner.logger.info(
                f'CheckpointAfterValHook: re-saved {name} with the state '
                'after its validation')
