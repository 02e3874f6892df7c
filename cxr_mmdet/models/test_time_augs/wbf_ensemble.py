# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Several checkpoints of one detector, and left-right flips, fused by
Weighted Box Fusion inside mmengine's test loop."""
from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import nn

from mmdet.registry import MODELS

from ...deployment.wbf_fusion import WBF_IOU_THR


@MODELS.register_module()
class CXRWBFEnsemble(BaseModel):
    """Test-time ensemble: ``module`` built once per checkpoint, each run
    on the batch (and on its mirror image with ``tta='flip'``), the views
    fused per image and class by
    :func:`~cxr_mmdet.deployment.fuse_detections`.

    It replaces mmdet's NMS-based ``DetTTAModel`` merge; the test loop,
    its evaluators and hooks are unchanged, so the metrics are those of a
    plain test run. ``tools/test.py CONFIG CKPT --ensemble CKPT2 --tta
    flip`` wraps the config's model in it.

    Args:
        module: the detector's model config.
        checkpoints: one detector per file; each must fit exactly.
        tta: ``'none'`` or ``'flip'``.
        iou_thr, skip_thr: WBF's thresholds.
        max_per_img: at most this many fused boxes (default: the
            module's ``test_cfg.max_per_img``).
    """

    def __init__(self,
                 module: dict,
                 checkpoints: Sequence[str],
                 tta: str = 'none',
                 iou_thr: float = WBF_IOU_THR,
                 skip_thr: float = 0.0,
                 max_per_img: int | None = None,
                 data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None) -> None:
        from mmengine.runner.checkpoint import _load_checkpoint_to_model

        from ...apis.checkpoint import check_checkpoint_fits, read_checkpoint
        from ...deployment.fused_detector import TTA_MODES
        if tta not in TTA_MODES:
            raise ValueError(f'tta must be one of {TTA_MODES}, got {tta!r}')
        if not checkpoints:
            raise ValueError('CXRWBFEnsemble needs at least one checkpoint')
        super().__init__(
            data_preprocessor=data_preprocessor
            or module.get('data_preprocessor'),
            init_cfg=init_cfg)
        self.models = nn.ModuleList()
        for path in checkpoints:
            model = MODELS.build(copy.deepcopy(module))
            checkpoint = read_checkpoint(path)
            check_checkpoint_fits(model, checkpoint, path)
            _load_checkpoint_to_model(model, checkpoint, strict=True)
            self.models.append(model)
        self.checkpoints = list(checkpoints)
        self.tta = tta
        self.iou_thr = iou_thr
        self.skip_thr = skip_thr
        if max_per_img is None:
            max_per_img = (module.get('test_cfg') or {}).get('max_per_img')
        self.max_per_img = max_per_img

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        if mode != 'predict':
            raise ValueError(f'CXRWBFEnsemble only predicts, got {mode!r}')
        return self._fused(inputs, data_samples)

    def test_step(self, data):
        data = self.data_preprocessor(data, False)
        return self._fused(data['inputs'], data['data_samples'])

    val_step = test_step

    def _fused(self, inputs: torch.Tensor, samples: list) -> list:
        """Every model on ``inputs`` (B, 3, H, W) (and mirrored), fused."""
        from ...deployment import Detections, fuse_detections
        width = inputs.shape[-1]
        if self.tta == 'flip' and any(s.img_shape[1] != width
                                      for s in samples):
            raise ValueError('--tta flip needs unpadded batches: input width '
                             f'{width}, image widths '
                             f'{[s.img_shape[1] for s in samples]}')
        views: list[list[Detections]] = [[] for _ in samples]
        flips = (False, True) if self.tta == 'flip' else (False, )
        for model in self.models:
            for flip in flips:
                x = inputs.flip(-1) if flip else inputs
                for i, out in enumerate(model.predict(x, samples)):
                    pred = out.pred_instances
                    det = Detections.of(pred.bboxes, pred.scores,
                                        pred.labels)
                    if flip:
                        det = det.flipped(out.ori_shape[1])
                    views[i].append(det)
        for sample, dets in zip(samples, views):
            height, width = sample.ori_shape[:2]
            fused = dets[0] if len(dets) == 1 else fuse_detections(
                dets, width, height, self.iou_thr, self.skip_thr,
                max_dets=self.max_per_img)
            pred = InstanceData()
            pred.bboxes = torch.from_numpy(fused.boxes)
            pred.scores = torch.from_numpy(fused.scores)
            pred.labels = torch.from_numpy(fused.labels)
            sample.pred_instances = pred
        return samples
