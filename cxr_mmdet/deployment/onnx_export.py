# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Export an mmdet SSD to ONNX, with its deploy meta JSON beside it.

The graph takes ``images`` (B, 3, H, W) float32, already resized and
normalised (:func:`~cxr_mmdet.deployment.preprocess.to_network_input`),
with a dynamic batch. It returns the head's raw outputs of every level,
flattened and concatenated in mmdet's anchor order (level, row, column,
anchor):

- ``scores`` (B, N, C): class probabilities, the softmax over the head's
  ``C + 1`` logits without the background column (sigmoid for sigmoid
  heads); not thresholded;
- ``deltas`` (B, N, 4): box deltas, not decoded.

Anchors, the box coder and the NMS settings go to the JSON
(:mod:`~cxr_mmdet.deployment.deploy_meta`); decoding, score filtering and
NMS run outside the graph (:mod:`~cxr_mmdet.deployment.postprocess`).
"""
from __future__ import annotations

import os
import os.path as osp

import torch
from torch import Tensor, nn

from .deploy_meta import DeployMeta, deploy_meta_path, write_deploy_meta
from .extras import require

#: The ONNX opset of the export (ONNX Runtime and OpenVINO both run it).
OPSET = 17


class SSDRawOutputs(nn.Module):
    """An mmdet single-stage detector up to its flattened head outputs.

    ``forward(images)``: ``images`` (B, 3, H, W) -> ``scores`` (B, N, C),
    ``deltas`` (B, N, 4), as the module docstring says.
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        self.detector = detector
        head = detector.bbox_head
        self.num_channels = head.cls_out_channels
        self.use_sigmoid = bool(head.use_sigmoid_cls)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        cls_scores, bbox_preds = self.detector.bbox_head(
            self.detector.extract_feat(images))
        batch = images.shape[0]
        logits = torch.cat([
            s.permute(0, 2, 3, 1).reshape(batch, -1, self.num_channels)
            for s in cls_scores
        ], 1)
        deltas = torch.cat([
            d.permute(0, 2, 3, 1).reshape(batch, -1, 4) for d in bbox_preds
        ], 1)
        if self.use_sigmoid:
            return logits.sigmoid(), deltas
        return logits.softmax(-1)[..., :-1], deltas


def pipeline_input_size(cfg) -> tuple[int, int]:
    """``(height, width)`` of the ``Resize`` step of the config's test
    pipeline (``scale`` is ``(width, height)`` in mmdet).

    Raises:
        ValueError: if the pipeline has no fixed-size ``Resize``.
    """
    for step in cfg.test_dataloader.dataset.pipeline:
        if str(step.get('type', '')).split('.')[-1] == 'Resize':
            scale = step.get('scale')
            if step.get('keep_ratio', False) or scale is None:
                break
            if isinstance(scale, int):
                return scale, scale
            return int(scale[1]), int(scale[0])
    raise ValueError('export needs a Resize(scale=(w, h), keep_ratio=False) '
                     'in the test pipeline, got '
                     f'{list(cfg.test_dataloader.dataset.pipeline)!r}')


def deploy_meta_from_detector(detector: nn.Module,
                              input_size: tuple[int, int]) -> DeployMeta:
    """The :class:`DeployMeta` of an mmdet SSD (anchors computed for
    ``input_size``)."""
    head = detector.bbox_head
    pre = detector.data_preprocessor
    height, width = input_size
    with torch.no_grad():
        feats = detector.extract_feat(torch.zeros(1, 3, height, width))
    sizes = [f.shape[-2:] for f in feats]
    anchors = head.prior_generator.grid_priors(sizes, device='cpu')
    coder = head.bbox_coder
    cfg = head.test_cfg
    classes = list(detector.dataset_meta['classes'])
    if len(classes) != head.num_classes:
        raise ValueError(f'the model predicts {head.num_classes} classes but '
                         f'its dataset_meta names {classes!r}')
    if pre.mean is None:
        mean, std = [0.0] * 3, [1.0] * 3
    else:
        mean = pre.mean.flatten().tolist()
        std = pre.std.flatten().tolist()
    return DeployMeta(
        input_size=(height, width),
        mean=mean,
        std=std,
        to_rgb=bool(getattr(pre, '_channel_conversion', False)),
        classes=classes,
        anchors=torch.cat(anchors).numpy(),
        level_sizes=[len(a) for a in anchors],
        target_means=[float(v) for v in coder.means],
        target_stds=[float(v) for v in coder.stds],
        clip_border=bool(coder.clip_border),
        add_ctr_clamp=bool(coder.add_ctr_clamp),
        ctr_clamp=float(coder.ctr_clamp),
        score_thr=float(cfg.get('score_thr', 0.0)),
        nms_pre=int(cfg.get('nms_pre', -1)),
        iou_thr=float(cfg.nms.iou_threshold),
        max_per_img=int(cfg.get('max_per_img', 100)),
        min_bbox_size=float(cfg.get('min_bbox_size', -1)))


def export_detector(detector: nn.Module,
                    input_size: tuple[int, int],
                    out: str,
                    opset: int = OPSET) -> tuple[str, str]:
    """Write ``out`` (the ONNX graph, checked by ``onnx.checker``) and its
    ``.deploy.json``; return both paths."""
    onnx = require('onnx')
    if osp.dirname(osp.abspath(out)):
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    detector = detector.eval().float()
    meta = deploy_meta_from_detector(detector, input_size)
    wrapper = SSDRawOutputs(detector).eval()
    dummy = torch.zeros(2, 3, *input_size)
    batch = {0: 'batch'}
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (dummy, ),
            out,
            input_names=['images'],
            output_names=list(meta.outputs),
            dynamic_axes=dict(images=batch, scores=batch, deltas=batch),
            opset_version=opset,
            dynamo=False)
    onnx.checker.check_model(onnx.load(out), full_check=True)
    return out, write_deploy_meta(meta, deploy_meta_path(out))


def export_onnx(config: str,
                checkpoint: str,
                out: str,
                opset: int = OPSET) -> tuple[str, str]:
    """Export the checkpoint's detector at the config's test input size.

    Returns:
        tuple: the ``.onnx`` and ``.deploy.json`` paths.
    """
    from ..apis.inference import load_detector
    inferencer = load_detector(config, checkpoint)
    return export_detector(inferencer.model.cpu(),
                           pipeline_input_size(inferencer.cfg), out, opset)
