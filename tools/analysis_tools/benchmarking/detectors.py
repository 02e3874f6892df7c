# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The two detectors a benchmark compares, and one step of each.

``plugin``: the SSD300-VGG16 of a cxr_mmdet config, built through
``mmdet.registry.MODELS`` with its ``optim_wrapper``; a training step is
``model.train_step`` (data preprocessor, forward, loss, backward, SGD step:
what mmengine's train loop calls), an inference step ``model.test_step``
under ``torch.no_grad`` (what the test loop calls: NMS, rescale).

``torchvision``: ``torchvision.models.detection.ssd300_vgg16`` with random
weights and ``num_classes = 6 + 1`` (background), the detector of the
system the plugin replaces, trained with the same SGD settings.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

from .synthetic import SyntheticBatch, mmdet_inputs, torchvision_inputs

#: The two detectors, in the order the benchmark runs them.
FRAMEWORKS = ('plugin', 'torchvision')


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


#: A hook type that, in a config's ``custom_hooks``, puts the model in
#: the channels-last layout for training and testing; the benchmark then
#: builds the plugin's detector the same way.
CHANNELS_LAST_HOOK = 'ChannelsLastHook'


def config_uses_channels_last(cfg: Any) -> bool:
    """Whether the config's ``custom_hooks`` hold a ``ChannelsLastHook``."""
    hooks = cfg.get('custom_hooks') or []
    return any(
        isinstance(h, dict) and h.get('type') == CHANNELS_LAST_HOOK
        for h in hooks)


def build_plugin_detector(config: Any,
                          batch: SyntheticBatch,
                          class_weight: list[float] | None = None) -> Detector:
    """Build the config's detector and optimiser around ``batch``.

    The plugin's ``ClassWeightedSSDHead`` gets non-uniform class weights
    (as ``ClassWeightHook`` sets them before training), so the weighted
    loss path is the one timed. A config whose ``custom_hooks`` hold a
    ``ChannelsLastHook`` gets its model in the channels-last layout, as
    training and testing would.

    Args:
        config: Config path or ``Config``.
        batch: The fixed batch of every step.
        class_weight: Foreground class weights; default ``0.5 .. 1.5``.
    """
    import torch
    from mmdet.registry import MODELS
    from mmengine.optim import build_optim_wrapper

    from cxr_mmdet.engine.hooks import to_channels_last as channels_last
    cfg = load_config(config)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    head = model.bbox_head
    if hasattr(head, 'set_class_weight'):
        num = head.num_classes
        weights = class_weight or [
            0.5 + i / max(num - 1, 1) for i in range(num)
        ]
        head.set_class_weight(weights)
    if config_uses_channels_last(cfg):
        # what the config's ChannelsLastHook does before training
        channels_last(model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    data = mmdet_inputs(batch)

    def train_step():
        model.train()
        return model.train_step(data, optim_wrapper)

    def infer_step():
        model.eval()
        with torch.no_grad():
            return model.test_step(data)

    return Detector('plugin', model, train_step, infer_step, batch.batch_size)


def build_torchvision_detector(batch: SyntheticBatch,
                               num_classes: int = 7,
                               lr: float = 1e-4,
                               momentum: float = 0.9,
                               weight_decay: float = 5e-4) -> Detector:
    """torchvision's ``ssd300_vgg16`` (no downloads) and an SGD optimiser.

    Args:
        batch: The fixed batch of every step.
        num_classes: Classes including background (6 + 1).
        lr, momentum, weight_decay: SGD settings (the config's).
    """
    import torch
    from torchvision.models.detection import ssd300_vgg16
    model = ssd300_vgg16(
        weights=None, weights_backbone=None, num_classes=num_classes)
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay)
    images_u8, targets = torchvision_inputs(batch)

    def train_step():
        model.train()
        images = [img.float().div_(255.0) for img in images_u8]
        losses = model(images, targets)
        loss = sum(losses.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return losses

    def infer_step():
        model.eval()
        with torch.no_grad():
            images = [img.float().div_(255.0) for img in images_u8]
            return model(images)

    return Detector('torchvision', model, train_step, infer_step,
                    batch.batch_size)


#: Suffix of a detector whose weights use the channels-last layout.
CHANNELS_LAST = '_channels_last'


def to_channels_last(detector: Detector) -> Detector:
    """Put the detector's weights in the channels-last (NHWC) layout.

    The convolutions then take and give NHWC tensors (oneDNN's native
    layout on CPU; tensor cores' on GPU), saving the layout reorders of
    every convolution; the maths is the same. Returns the detector
    renamed ``<name>_channels_last``.
    """
    from cxr_mmdet.engine.hooks import to_channels_last as channels_last
    channels_last(detector.model)
    detector.name += CHANNELS_LAST
    return detector


def build_detectors(config: Any,
                    batch: SyntheticBatch,
                    channels_last: bool = False) -> dict:
    """Both detectors around the same batch: ``{name: Detector}``.

    With ``channels_last``, two more copies whose weights are in the
    channels-last layout (``plugin_channels_last``,
    ``torchvision_channels_last``; see :func:`to_channels_last`).
    """
    import torch
    torch.manual_seed(0)
    detectors = {
        'plugin': build_plugin_detector(config, batch),
        'torchvision': build_torchvision_detector(batch),
    }
    if channels_last:
        for variant in (to_channels_last(build_plugin_detector(config, batch)),
                        to_channels_last(build_torchvision_detector(batch))):
            detectors[variant.name] = variant
    return detectors
