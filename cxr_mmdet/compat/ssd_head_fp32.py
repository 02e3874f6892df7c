# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run ``SSDHead``'s loss and box decoding in fp32 under autocast.

Under autocast the head's convolutions return bf16/fp16 maps, and mmdet
3.3.0's ``SSDHead.loss_by_feat`` (anchor assignment, target encoding,
hard-negative mining, cross-entropy and smooth-L1) and
``predict_by_feat`` (softmax, box decoding, NMS) would then compute in that
precision. Both are wrapped to take float32 copies of ``cls_scores`` and
``bbox_preds`` with autocast disabled. Without autocast the inputs are
already float32 and nothing changes.
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence

import torch
from torch import Tensor


def fp32_head_method(method: Callable) -> Callable:
    """Wrap ``method(self, cls_scores, bbox_preds, *args, **kwargs)`` to run
    with autocast off on float32 ``cls_scores`` and ``bbox_preds``."""
    if getattr(method, '_cxr_fp32', False):
        return method

    @functools.wraps(method)
    def wrapper(self, cls_scores: Sequence[Tensor],
                bbox_preds: Sequence[Tensor], *args, **kwargs):
        device_type = cls_scores[0].device.type
        with torch.autocast(device_type, enabled=False):
            return method(self, [s.float() for s in cls_scores],
                          [p.float() for p in bbox_preds], *args, **kwargs)

    wrapper._cxr_fp32 = True
    return wrapper


def install_ssd_head_fp32() -> bool:
    """Wrap ``SSDHead.loss_by_feat`` and ``SSDHead.predict_by_feat``.

    Returns:
        bool: True if wrapped now, False if already wrapped.
    """
    from mmdet.models.dense_heads import SSDHead
    if getattr(SSDHead.loss_by_feat, '_cxr_fp32', False):
        return False
    SSDHead.loss_by_feat = fp32_head_method(SSDHead.loss_by_feat)
    SSDHead.predict_by_feat = fp32_head_method(SSDHead.predict_by_feat)
    return True
