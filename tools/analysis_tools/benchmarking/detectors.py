# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The detectors the benchmark compares, on one fixed synthetic batch.

``plugin``: the SSD300-VGG16 of a cxr_mmdet config, built through
``mmdet.registry.MODELS`` with its ``optim_wrapper``; a training step is
what ``model.train_step`` does (data preprocessor, forward, loss,
backward, SGD step), an inference step what ``model.test_step`` does
under ``torch.no_grad`` (NMS, rescale).

``torchvision``: ``torchvision.models.detection.ssd300_vgg16`` with random
weights and ``num_classes = 6 + 1`` (background), trained with the same
SGD settings.

Each runs in the variants of :data:`VARIANTS`: fp32 in the NCHW or the
channels-last (NHWC) layout, and bf16 mixed precision (NHWC weights,
``torch.autocast('cpu', dtype=torch.bfloat16)`` around the forward and
the loss; backward, optimizer step, box decoding and NMS in fp32).
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from cxr_mmdet.classes import CXR_CLASSES

#: name -> (framework, precision, layout), in the order the benchmark
#: runs them; torchvision fp32 is NCHW, as its users run it.
VARIANTS: dict[str, tuple[str, str, str]] = {
    'plugin_fp32_nchw': ('plugin', 'fp32', 'nchw'),
    'plugin_fp32_nhwc': ('plugin', 'fp32', 'nhwc'),
    'plugin_bf16_nhwc': ('plugin', 'bf16', 'nhwc'),
    'torchvision_fp32': ('torchvision', 'fp32', 'nchw'),
    'torchvision_bf16': ('torchvision', 'bf16', 'nhwc'),
    'plugin_fp32_nhwc_mmcv_nms': ('plugin', 'fp32', 'nhwc'),
}

#: variants timed in the inference section only: the plugin with mmcv's
#: own NMS kernel instead of torchvision's (``restore_mmcv_nms``), the
#: "before" of :mod:`cxr_mmdet.compat.torchvision_nms` in the same run
INFERENCE_ONLY = frozenset({'plugin_fp32_nhwc_mmcv_nms'})


@dataclass(frozen=True)
class SyntheticBatch:
    """One batch. ``images`` (B, 3, H, W) uint8; per image ``boxes``
    (K, 4) float32 ``x1, y1, x2, y2`` pixels and ``labels`` (K,) int64 in
    ``[0, num_classes)``."""
    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]

    @property
    def batch_size(self) -> int:
        return int(self.images.shape[0])


def synthetic_batch(batch_size: int = 8,
                    size: int = 300,
                    max_boxes: int = 3,
                    seed: int = 0) -> SyntheticBatch:
    """Render ``batch_size`` radiographs
    (:mod:`cxr_mmdet.demo_data.radiographs`, gray over three channels, as
    ``CXRLoadImageFromFile`` loads the prepared PNGs) with 1 to
    ``max_boxes`` lesions each."""
    from cxr_mmdet.demo_data.radiographs import (Lesion, render_radiograph,
                                                 to_uint8)
    if batch_size < 1 or size < 32 or max_boxes < 1:
        raise ValueError('need batch_size >= 1, size >= 32, max_boxes >= 1,'
                         f' got {batch_size!r}, {size!r}, {max_boxes!r}')
    rng = np.random.default_rng(seed)
    images, all_boxes, all_labels = [], [], []
    for _ in range(batch_size):
        count = int(rng.integers(1, max_boxes + 1))
        labels = rng.integers(0, len(CXR_CLASSES), count)
        wh = rng.uniform(0.1 * size, 0.4 * size, (count, 2))
        xy = rng.uniform(0, 1, (count, 2)) * (size - 1 - wh)
        boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
        lesions = [
            Lesion(CXR_CLASSES[int(c)], tuple(float(v) for v in box))
            for c, box in zip(labels, boxes)
        ]
        gray = to_uint8(render_radiograph(size, size, lesions, rng))
        images.append(np.repeat(gray[None], 3, axis=0))
        all_boxes.append(boxes)
        all_labels.append(labels.astype(np.int64))
    return SyntheticBatch(np.stack(images), all_boxes, all_labels)


def mmdet_inputs(batch: SyntheticBatch) -> dict:
    """The batch as mmdet's dataloader yields it: ``inputs`` (uint8
    (3, H, W) tensors) and ``data_samples`` (``DetDataSample`` with
    ``gt_instances``, ``ignored_instances`` and ``PackDetInputs``'
    metainfo)."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    height, width = batch.images.shape[2:]
    inputs, samples = [], []
    for i in range(batch.batch_size):
        inputs.append(torch.from_numpy(batch.images[i].copy()))
        sample = DetDataSample(
            metainfo=dict(
                img_id=f'synthetic_{i:04d}',
                img_path=f'synthetic_{i:04d}.png',
                ori_shape=(height, width),
                img_shape=(height, width),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        gt = InstanceData()
        gt.bboxes = HorizontalBoxes(torch.from_numpy(batch.boxes[i]))
        gt.labels = torch.from_numpy(batch.labels[i])
        sample.gt_instances = gt
        ignored = InstanceData()
        ignored.bboxes = HorizontalBoxes(torch.zeros(0, 4))
        ignored.labels = torch.zeros(0, dtype=torch.int64)
        sample.ignored_instances = ignored
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def torchvision_inputs(batch: SyntheticBatch) -> tuple[list, list[dict]]:
    """The batch as torchvision's detectors take it: uint8 images (turned
    into floats in [0, 1] inside the timed step, as mmdet's data
    preprocessor does) and targets (``labels`` in ``[1, num_classes]``:
    torchvision's 0 is background)."""
    import torch
    images = [
        torch.from_numpy(batch.images[i].copy())
        for i in range(batch.batch_size)
    ]
    targets = [
        dict(
            boxes=torch.from_numpy(boxes.copy()),
            labels=torch.from_numpy(labels + 1))
        for boxes, labels in zip(batch.boxes, batch.labels)
    ]
    return images, targets


@dataclass
class Detector:
    """A built detector with its training and inference steps on one
    fixed batch. ``train_step()`` and ``infer_step()`` run one step."""
    name: str
    model: Any
    train_step: Callable[[], Any]
    infer_step: Callable[[], Any]
    count: int


def load_config(config: Any):
    """An mmengine ``Config`` from a path (or the ``Config`` itself), with
    mmdet's registry scope set and the plugin imported."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cxr_mmdet  # noqa: F401 - registers the plugin's modules
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    return cfg


def config_uses_channels_last(cfg: Any) -> bool:
    """Whether the config's ``custom_hooks`` hold a ``ChannelsLastHook``."""
    hooks = cfg.get('custom_hooks') or []
    return any(
        isinstance(h, dict) and h.get('type') == 'ChannelsLastHook'
        for h in hooks)


def _autocast(precision: str):
    """bf16 autocast on CPU, or nothing for fp32."""
    import torch
    if precision == 'bf16':
        return torch.autocast('cpu', dtype=torch.bfloat16)
    if precision != 'fp32':
        raise ValueError(f"precision must be 'fp32' or 'bf16', got "
                         f'{precision!r}')
    return contextlib.nullcontext()


def _to_float(outs):
    """Head outputs (nested lists of tensors) back to fp32."""
    if isinstance(outs, (list, tuple)):
        return type(outs)(_to_float(o) for o in outs)
    return outs.float()


@contextlib.contextmanager
def _nms_kernel(nms: str):
    """Run the block with mmcv's own NMS (``'mmcv'``) or the plugin's
    torchvision one (``'torchvision'``, installed on import)."""
    from cxr_mmdet.compat import install_torchvision_nms, restore_mmcv_nms
    if nms not in ('mmcv', 'torchvision'):
        raise ValueError(f"nms must be 'mmcv' or 'torchvision', got {nms!r}")
    if nms == 'torchvision':
        yield
        return
    restore_mmcv_nms()
    try:
        yield
    finally:
        install_torchvision_nms()


def build_plugin_detector(config: Any,
                          batch: SyntheticBatch,
                          precision: str = 'fp32',
                          layout: str = 'nchw',
                          name: str = 'plugin',
                          nms: str = 'torchvision') -> Detector:
    """Build the config's detector and optimiser around ``batch``.

    ``nms='mmcv'`` runs the inference step's NMS on mmcv's own kernel.

    The ``ClassWeightedSSDHead`` gets non-uniform class weights (as
    ``ClassWeightHook`` sets them before training), so the weighted loss
    is the one timed. ``layout='nhwc'`` puts the weights in channels-last,
    as the config's ``ChannelsLastHook`` does.
    """
    import torch
    from mmdet.registry import MODELS
    from mmengine.optim import build_optim_wrapper

    from cxr_mmdet.engine.hooks import to_channels_last
    cfg = load_config(config)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    head = model.bbox_head
    if hasattr(head, 'set_class_weight'):
        num = head.num_classes
        head.set_class_weight(
            [0.5 + i / max(num - 1, 1) for i in range(num)])
    if layout == 'nhwc':
        to_channels_last(model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = mmdet_inputs(batch)

    def train_step():
        # BaseModel.train_step, with the forward and loss under autocast
        model.train()
        with _autocast(precision):
            batch_data = model.data_preprocessor(data, True)
            losses = model._run_forward(batch_data, mode='loss')
        parsed, log_vars = model.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        return log_vars

    def infer_step():
        # SingleStageDetector.predict, the network under autocast and the
        # box decoding and NMS in fp32
        model.eval()
        with torch.no_grad(), _nms_kernel(nms):
            batch_data = model.data_preprocessor(data, False)
            samples = batch_data['data_samples']
            with _autocast(precision):
                feats = model.extract_feat(batch_data['inputs'])
                outs = model.bbox_head(feats)
            results = model.bbox_head.predict_by_feat(
                *_to_float(outs),
                batch_img_metas=[s.metainfo for s in samples],
                rescale=True)
            return model.add_pred_to_datasample(samples, results)

    return Detector(name, model, train_step, infer_step, batch.batch_size)


def build_torchvision_detector(batch: SyntheticBatch,
                               precision: str = 'fp32',
                               layout: str = 'nchw',
                               name: str = 'torchvision',
                               num_classes: int = 7,
                               lr: float = 1e-4,
                               momentum: float = 0.9,
                               weight_decay: float = 5e-4) -> Detector:
    """torchvision's ``ssd300_vgg16`` (no downloads) and an SGD optimiser
    with the config's settings."""
    import torch
    from torchvision.models.detection import ssd300_vgg16

    from cxr_mmdet.engine.hooks import to_channels_last
    model = ssd300_vgg16(
        weights=None, weights_backbone=None, num_classes=num_classes)
    if layout == 'nhwc':
        to_channels_last(model)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay)
    images_u8, targets = torchvision_inputs(batch)

    def train_step():
        model.train()
        images = [img.float().div_(255.0) for img in images_u8]
        with _autocast(precision):
            losses = model(images, targets)
            loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.float().backward()
        optimizer.step()
        return losses

    def infer_step():
        model.eval()
        with torch.no_grad(), _autocast(precision):
            images = [img.float().div_(255.0) for img in images_u8]
            return model(images)

    return Detector(name, model, train_step, infer_step, batch.batch_size)


def build_detectors(config: Any,
                    batch: SyntheticBatch,
                    variants: tuple[str, ...] = tuple(VARIANTS)) -> dict:
    """The ``variants`` (names of :data:`VARIANTS`) around the same batch:
    ``{name: Detector}``."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise ValueError(f'unknown variants {unknown!r}; known: '
                         f'{list(VARIANTS)!r}')
    detectors = {}
    for name in variants:
        framework, precision, layout = VARIANTS[name]
        if framework == 'plugin':
            detectors[name] = build_plugin_detector(
                config, batch, precision, layout, name,
                'mmcv' if name.endswith('_mmcv_nms') else 'torchvision')
        else:
            detectors[name] = build_torchvision_detector(
                batch, precision, layout, name)
    return detectors
