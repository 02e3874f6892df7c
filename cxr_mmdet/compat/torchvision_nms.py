# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run mmcv's NMS on torchvision's kernels, in float32.

mmdet 3.3.0's dense heads (SSD's ``_bbox_post_process`` included) call
``mmcv.ops.batched_nms``, which reaches mmcv's compiled ``nms`` kernel. An
mmcv built without ``nvcc`` has no CUDA kernel, so CUDA tensors fail there,
and the CPU kernel reads ``float`` pointers, so bf16 tensors (autocast)
fail with ``expected scalar type Float but found BFloat16``. torchvision
ships CPU and CUDA kernels of the same greedy NMS.

:func:`nms` keeps ``mmcv.ops.nms``'s signature and outputs and runs
``torchvision.ops.nms`` on float32 copies of the boxes and scores: boxes are
sorted by score with the same ``Tensor.sort`` call mmcv's kernel makes (so
equal scores keep mmcv's order), the IoU threshold is rounded to float32 as
mmcv's kernel does, and ``offset=1`` widens ``x2, y2`` by one. The returned
``dets`` are float32. :func:`batched_nms` casts to float32 and then runs
mmcv's own ``batched_nms`` (the per-class offset trick, ``split_thr``,
``class_agnostic``, ``max_num``), whose ``type='nms'`` now resolves to
:func:`nms`. :func:`install_torchvision_nms` binds both at every import
site. No other mmcv compiled op is reached by SSD training or inference
(its transforms, anchors, losses and metrics are Python, numpy and torch).
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable

import numpy as np
import torch
from mmengine.utils import deprecated_api_warning
from torch import Tensor

#: Modules on SSD's path that bind ``batched_nms``/``nms`` at import.
NMS_IMPORT_SITES = ('mmcv.ops', 'mmcv.ops.nms',
                    'mmdet.models.dense_heads.base_dense_head',
                    'mmdet.models.layers.bbox_nms',
                    'mmdet.models.test_time_augs.det_tta',
                    'mmdet.models.test_time_augs.merge_augs')

_MMCV: dict[str, Callable] = {}


def nms_dispatch_key(device_type: str) -> str:
    """The dispatch key of the ``torchvision::nms`` kernel that a tensor
    on ``device_type`` (``'cpu'``, ``'cuda'``, ...) reaches.

    Raises:
        RuntimeError: if this torchvision build has no kernel there.
    """
    key = 'CPU' if device_type == 'cpu' else device_type.upper()
    import torchvision  # noqa: F401  registers torchvision::nms
    try:
        found = torch._C._dispatch_has_kernel_for_dispatch_key(
            'torchvision::nms', key)
    except RuntimeError:  # not a dispatch key
        found = False
    if not found:
        raise RuntimeError(f'torchvision {torchvision.__version__} has no '
                           f'NMS kernel for device {device_type!r}')
    return key


def nms_indices(boxes: Tensor,
                scores: Tensor,
                iou_threshold: float,
                offset: int = 0,
                score_threshold: float = 0,
                max_num: int = -1) -> Tensor:
    """Indices kept by greedy NMS, highest score first (mmcv's ``NMSop``).

    Args:
        boxes (Tensor): (N, 4) ``x1, y1, x2, y2``, any float dtype.
        scores (Tensor): (N, ).
        iou_threshold (float): boxes overlapping a kept one by more are
            dropped.
        offset (int): 0, or 1 for widths ``x2 - x1 + 1``.
        score_threshold (float): boxes scoring at most this are dropped
            first when it is positive.
        max_num (int): keep at most this many when positive.

    Returns:
        Tensor: (K, ) int64 indices into ``boxes``.
    """
    from torchvision.ops import nms as tv_nms
    boxes, scores = boxes.float(), scores.float()
    filtering = score_threshold > 0
    if filtering:
        valid_mask = scores > score_threshold
        boxes, scores = boxes[valid_mask], scores[valid_mask]
        valid_inds = valid_mask.nonzero(as_tuple=False).squeeze(dim=1)
    if offset:
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:] + offset], dim=1)
    order = scores.sort(0, descending=True)[1]
    threshold = float(np.float32(iou_threshold))
    inds = order[tv_nms(boxes[order], scores[order], threshold)]
    if max_num > 0:
        inds = inds[:max_num]
    if filtering:
        inds = valid_inds[inds]
    return inds


@deprecated_api_warning({'iou_thr': 'iou_threshold'})
def nms(boxes: Tensor | np.ndarray,
        scores: Tensor | np.ndarray,
        iou_threshold: float,
        offset: int = 0,
        score_threshold: float = 0,
        max_num: int = -1) -> tuple[Tensor, Tensor] | tuple[np.ndarray,
                                                            np.ndarray]:
    """``mmcv.ops.nms`` on torchvision's kernels.

    Returns:
        tuple: ``dets`` (K, 5) float32 ``x1, y1, x2, y2, score`` and the
        kept indices (K, ), numpy when the boxes were numpy.
    """
    is_numpy = isinstance(boxes, np.ndarray)
    if is_numpy:
        boxes = torch.from_numpy(boxes)
    if isinstance(scores, np.ndarray):
        scores = torch.from_numpy(scores)
    if boxes.dim() != 2 or boxes.size(1) != 4:
        raise ValueError(f'nms: boxes must be (N, 4), got '
                         f'{tuple(boxes.shape)}')
    if scores.shape != boxes.shape[:1]:
        raise ValueError(f'nms: scores must be ({boxes.size(0)}, ), got '
                         f'{tuple(scores.shape)}')
    if offset not in (0, 1):
        raise ValueError(f'nms: offset must be 0 or 1, got {offset!r}')
    inds = nms_indices(boxes, scores, iou_threshold, offset,
                       score_threshold, max_num)
    dets = torch.cat(
        (boxes[inds].float(), scores[inds].float().reshape(-1, 1)), dim=1)
    if is_numpy:
        return dets.cpu().numpy(), inds.cpu().numpy()
    return dets, inds


def batched_nms(boxes: Tensor,
                scores: Tensor,
                idxs: Tensor,
                nms_cfg: dict | None,
                class_agnostic: bool = False) -> tuple[Tensor, Tensor]:
    """``mmcv.ops.batched_nms`` in float32, on :func:`nms`.

    Casting first keeps the per-class coordinate offsets exact for bf16 and
    fp16 boxes. Returns float32 ``dets`` (K, 5) and the kept indices.
    """
    return _mmcv('batched_nms')(boxes.float(), scores.float(), idxs,
                                nms_cfg, class_agnostic)


def _mmcv(name: str) -> Callable:
    if name not in _MMCV:
        # ``mmcv.ops.nms`` the attribute is the function, not the module
        module = importlib.import_module('mmcv.ops.nms')
        _MMCV[name] = getattr(module, name)
    return _MMCV[name]


def _rebind(old: dict[str, Callable], new: dict[str, Callable]) -> list[str]:
    """In every loaded ``mmdet``/``mmcv`` module, bind ``new[name]`` where
    ``old[name]`` is bound; return the ``module.name`` of each."""
    replaced = []
    for mod_name, module in list(sys.modules.items()):
        if module is None or mod_name.split('.')[0] not in ('mmdet', 'mmcv'):
            continue
        for name, fn in old.items():
            if getattr(module, name, None) is fn:
                setattr(module, name, new[name])
                replaced.append(f'{mod_name}.{name}')
    return sorted(replaced)


def _ours() -> dict[str, Callable]:
    return {'nms': nms, 'batched_nms': batched_nms}


def _originals() -> dict[str, Callable]:
    return {name: _mmcv(name) for name in ('nms', 'batched_nms')}


def install_torchvision_nms() -> list[str]:
    """Bind :func:`nms` and :func:`batched_nms` where mmcv's are bound.

    Covers :data:`NMS_IMPORT_SITES` and every other loaded ``mmdet`` or
    ``mmcv`` module holding mmcv's functions.

    Returns:
        list[str]: ``module.name`` of each binding replaced (empty when
        already installed).
    """
    originals = _originals()
    for site in NMS_IMPORT_SITES:
        importlib.import_module(site)
    return _rebind(originals, _ours())


def restore_mmcv_nms() -> list[str]:
    """Undo :func:`install_torchvision_nms`: bind mmcv's own ``nms`` and
    ``batched_nms`` again wherever ours are bound (for comparisons with
    mmcv's kernel, or an mmcv built with CUDA ops).

    Returns:
        list[str]: ``module.name`` of each binding restored.
    """
    return _rebind(_ours(), _originals())
