# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write the val operating points of the best checkpoint at the end of
training."""
from __future__ import annotations

import os.path as osp
import re

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmdet.registry import HOOKS

_EPOCH_IN_NAME = re.compile(r'epoch_(\d+)\.pth$')


@HOOKS.register_module()
class OperatingPointsHook(Hook):
    """After each validation, choose the per-class operating points on the
    val images (:func:`~cxr_mmdet.apis.runner_operating_points`: the
    threshold reaching ``target_sensitivity``, the one keeping
    ``target_fp_per_image``); after training, write those of the best
    checkpoint's epoch (mmengine's ``best_ckpt``; without one, the last
    validation) to ``<work_dir>/operating_points.json``, where
    ``tools/infer.py --operating-point`` and ``tools/test.py`` find them
    beside the checkpoint. The file records the ``epoch``.

    Args:
        target_sensitivity: Lesion sensitivity to reach.
        target_fp_per_image: FPs per image to keep under.
    """

    priority = 'LOW'

    def __init__(self,
                 target_sensitivity: float = 0.9,
                 target_fp_per_image: float = 1.0) -> None:
        self.target_sensitivity = target_sensitivity
        self.target_fp_per_image = target_fp_per_image
        self._by_epoch: dict[int, dict] = {}

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        """Choose the points of this validation (rank 0)."""
        from cxr_mmdet.apis import runner_operating_points
        if not is_main_process():
            return
        try:
            points = runner_operating_points(runner, 'val',
                                             self.target_sensitivity,
                                             self.target_fp_per_image)
        except ValueError as err:  # no CXRROCMetric, or nothing evaluated
            runner.logger.warning(f'OperatingPointsHook: {err}')
            return
        self._by_epoch[runner.epoch] = points

    def after_train(self, runner) -> None:
        """Write ``operating_points.json`` (rank 0)."""
        from cxr_mmdet.apis import OPERATING_POINTS_FILE
        from cxr_mmdet.apis.operating_points import write_json
        if not is_main_process() or not self._by_epoch:
            return
        best = runner.message_hub.get_info('best_ckpt')
        match = _EPOCH_IN_NAME.search(str(best)) if best else None
        epoch = int(match.group(1)) if match else None
        if epoch not in self._by_epoch:
            epoch = max(self._by_epoch)
        points = dict(self._by_epoch[epoch], split='val', epoch=epoch,
                      checkpoint=best if match else None)
        path = write_json(points, osp.join(runner.work_dir,
                                           OPERATING_POINTS_FILE))
        runner.logger.info(f'operating points of epoch {epoch} (val) '
                           f'written to {path}')
