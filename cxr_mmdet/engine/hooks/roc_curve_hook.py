# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write the ROC curves of every validation and test run to the work dir."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop, IterBasedTrainLoop

from mmdet.registry import HOOKS
from cxr_mmdet.evaluation.metrics import CXRROCMetric
from cxr_mmdet.visualization.plots import plot_roc_curves
from cxr_mmdet.visualization.roc_json import save_roc_json

_EPOCH_IN_NAME = re.compile(r'epoch_(\d+)\.pth$')


@HOOKS.register_module()
class ROCCurveHook(Hook):
    """After each validation and test run, save the ROC curves of the
    evaluator's :class:`CXRROCMetric`.

    Writes, on rank 0, ``<work_dir>/<out_dir>/<stage>_<epoch>.png`` (one
    curve per class, its AUC in the legend) and ``<stage>_<epoch>.json``
    (fpr/tpr/thresholds/auc/counts per class, the classes without an AUC,
    FROC details and the ``cxr/`` metrics; layout in
    :mod:`cxr_mmdet.visualization.roc_json`). ``stage`` is ``val`` or
    ``test``; ``epoch`` is the number of finished training epochs (for a
    test run, the epoch stored in the loaded checkpoint, else 0); with
    iteration-based training the name is ``<stage>_iter_<iter>``.

    Args:
        out_dir: Folder under the work dir. Defaults to ``'roc'``.
        plot: Also draw the PNG. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str = 'roc', plot: bool = True) -> None:
        self.out_dir = out_dir
        self.plot = plot
        self._checkpoint_epoch: int | None = None
        self._warned: set[str] = set()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Remember the loaded checkpoint's epoch (names test outputs)."""
        meta = checkpoint.get('meta') or {}
        epoch = meta.get('epoch')
        if isinstance(epoch, int):
            self._checkpoint_epoch = epoch

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        """Write ``val_<epoch>.png|json``."""
        self._write(runner, 'val', metrics)

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        """Write ``test_<epoch>.png|json``."""
        self._write(runner, 'test', metrics)

    def _warn_once(self, runner, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            runner.logger.warning(message)

    @staticmethod
    def _find_metric(runner, stage: str) -> CXRROCMetric | None:
        """The first CXRROCMetric of the stage's evaluator."""
        loop = getattr(runner, f'_{stage}_loop', None)
        evaluator = getattr(loop, 'evaluator', None)
        if evaluator is None:
            try:
                evaluator = getattr(runner, f'{stage}_evaluator')
            except (AttributeError, RuntimeError):
                return None
        for metric in getattr(evaluator, 'metrics', []):
            if isinstance(metric, CXRROCMetric):
                return metric
        return None

    def _stem(self, runner, stage: str) -> tuple[str, int, int]:
        """File name stem, epoch and iteration of this evaluation."""
        train_loop = getattr(runner, '_train_loop', None)
        if isinstance(train_loop, BaseLoop):
            if isinstance(train_loop, IterBasedTrainLoop):
                return f'{stage}_iter_{runner.iter}', runner.epoch, \
                    runner.iter
            return f'{stage}_{runner.epoch}', runner.epoch, runner.iter
        # not training (a test run): do not build the train loop
        epoch = self._checkpoint_epoch
        if epoch is None:
            load_from = getattr(runner, '_load_from', None) or ''
            match = _EPOCH_IN_NAME.search(str(load_from))
            epoch = int(match.group(1)) if match else 0
        return f'{stage}_{epoch}', epoch, 0

    def _write(self, runner, stage: str, metrics: dict | None) -> None:
        if not is_main_process():
            return
        metric = self._find_metric(runner, stage)
        if metric is None:
            self._warn_once(
                runner, f'ROCCurveHook: no CXRROCMetric in the {stage} '
                'evaluator; no ROC curves written')
            return
        if metric.last_curves is None:
            self._warn_once(
                runner, f'ROCCurveHook: the {stage} CXRROCMetric has not '
                'computed anything; no ROC curves written')
            return
        stem, epoch, it = self._stem(runner, stage)
        prefix = f'{metric.prefix}/' if metric.prefix else ''
        record: dict[str, Any] = dict(
            stage=stage,
            epoch=epoch,
            iter=it,
            classes=metric.last_curves,
            missing=metric.last_missing,
            metrics={
                k: v
                for k, v in (metrics or {}).items() if k.startswith(prefix)
            })
        if metric.last_froc is not None:
            record['froc'] = {
                k: metric.last_froc[k]
                for k in ('froc', 'fp_rates', 'sensitivities', 'num_lesions',
                          'num_images')
            }
        out_dir = Path(runner.work_dir) / self.out_dir
        json_file = save_roc_json(record, out_dir / f'{stem}.json')
        written = [str(json_file)]
        if self.plot:
            palette = (metric.dataset_meta or {}).get('palette')
            names = list(metric.class_names)
            colours = None
            if palette and len(palette) == len(names):
                colours = [palette[names.index(n)] for n in metric.last_curves]
            png = plot_roc_curves(
                metric.last_curves,
                out_dir / f'{stem}.png',
                title=f'ROC, {stage} epoch {epoch}',
                missing=list(metric.last_missing),
                palette=colours)
            written.append(str(png))
        runner.logger.info(f'ROCCurveHook: wrote {", ".join(written)}')
