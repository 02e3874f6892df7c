# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run the model's convolutions in the channels-last (NHWC) layout."""
from __future__ import annotations

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdet.registry import HOOKS


def to_channels_last(model: torch.nn.Module) -> int:
    """Put every 4-D parameter and buffer of ``model`` in channels-last.

    ``Module.to(memory_format=...)`` re-lays the tensors in place of their
    ``.data``, so the parameter objects an optimizer holds stay the same.
    Convolutions whose weight is channels-last run in that layout and
    return channels-last outputs whatever the input's layout.

    Returns:
        int: how many 4-D parameters were converted (0 when all already
        were).
    """
    if is_model_wrapper(model):
        model = model.module
    todo = sum(1 for p in model.parameters()
               if p.dim() == 4 and not p.is_contiguous(
                   memory_format=torch.channels_last))
    if todo:
        model.to(memory_format=torch.channels_last)
    return todo


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Put the model's weights in the channels-last layout before training,
    validation and testing.

    On CPU oneDNN runs NHWC convolutions without layout reorders (the
    README's performance section has the measured rates); on GPUs it lets
    AMP use tensor-core NHWC kernels. It changes no weights, only their
    memory layout, so checkpoints load into models of either layout.

    The conversion runs at ``before_train`` (after weight initialisation
    and checkpoint loading) and again at ``before_val``/``before_test``,
    where it is a no-op unless a test-only run just loaded the model.
    """

    priority = 'VERY_LOW'

    def _convert(self, runner) -> None:
        converted = to_channels_last(runner.model)
        if converted:
            runner.logger.info(
                f'ChannelsLastHook: {converted} 4-D parameters now in the '
                'channels-last layout')

    def before_train(self, runner) -> None:
        self._convert(runner)

    def before_val(self, runner) -> None:
        self._convert(runner)

    def before_test(self, runner) -> None:
        self._convert(runner)
