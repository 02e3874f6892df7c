# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""mmcv's NMS routed to torchvision gives mmcv's results, in float32."""
from __future__ import annotations

import importlib

import mmcv.ops
import numpy as np
import pytest
import torch
import torchvision

import cxr_mmdet  # noqa: F401
from cxr_mmdet.compat import torchvision_nms as tvn

NMS_MODULE = importlib.import_module('mmcv.ops.nms')
MMCV_NMS = tvn._mmcv('nms')
MMCV_BATCHED_NMS = tvn._mmcv('batched_nms')


@pytest.fixture
def mmcv_reference(monkeypatch):
    """mmcv's own ``nms`` and ``batched_nms`` (the latter resolves
    ``type='nms'`` through ``mmcv.ops.nms``'s globals)."""
    monkeypatch.setattr(NMS_MODULE, 'nms', MMCV_NMS)

    def reference_batched(*args, **kwargs):
        return MMCV_BATCHED_NMS(*args, **kwargs)

    return MMCV_NMS, reference_batched


def _random_boxes(n: int, seed: int, ties: bool, size: float = 300.):
    """``n`` boxes around a few objects, scores with many exact ties."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(max(n // 200, 2), 2, generator=g) * size
    pick = torch.randint(len(centres), (n, ), generator=g)
    ctr = centres[pick] + torch.randn(n, 2, generator=g) * size / 40
    wh = torch.rand(n, 2, generator=g) * size / 4 + 2
    boxes = torch.cat([ctr - wh / 2, ctr + wh / 2], 1).clamp(0, size)
    scores = torch.rand(n, generator=g)
    if ties:
        scores = (scores * 20).round() / 20  # 21 distinct values
    return boxes.float(), scores.float()


def _ssd_outputs(seed: int = 0, n: int = 4000, classes: int = 6):
    """What SSD300 hands ``batched_nms``: ~4,000 decoded boxes in a
    300 px image, softmax scores over ``score_thr`` 0.02, 6 labels."""
    boxes, _ = _random_boxes(n, seed, ties=False)
    g = torch.Generator().manual_seed(seed + 1)
    logits = torch.randn(n, classes + 1, generator=g) * 2
    probs = logits.softmax(-1)[:, :classes]
    scores, labels = probs.max(-1)
    scores = torch.maximum(scores, torch.tensor(0.02))
    scores[::7] = scores[3]  # equal scores across boxes and classes
    return boxes, scores, labels


@pytest.mark.parametrize('iou', [0.3, 0.45, 0.5, 0.7])
@pytest.mark.parametrize('ties', [False, True])
def test_nms_matches_mmcv(mmcv_reference, iou, ties):
    ref_nms, _ = mmcv_reference
    for seed in range(3):
        boxes, scores = _random_boxes(1500, seed, ties)
        dets, keep = tvn.nms(boxes, scores, iou)
        ref_dets, ref_keep = ref_nms(boxes, scores, iou)
        assert keep.dtype == torch.int64
        assert torch.equal(keep, ref_keep)
        assert torch.equal(dets, ref_dets)


def test_nms_all_equal_scores(mmcv_reference):
    ref_nms, _ = mmcv_reference
    boxes, _ = _random_boxes(2000, 5, ties=False)
    scores = torch.full((2000, ), 0.5)
    assert torch.equal(tvn.nms(boxes, scores, 0.45)[1],
                       ref_nms(boxes, scores, 0.45)[1])


@pytest.mark.parametrize('kwargs', [
    dict(score_threshold=0.3),
    dict(max_num=50),
    dict(score_threshold=0.2, max_num=30),
])
def test_nms_options_match_mmcv(mmcv_reference, kwargs):
    ref_nms, _ = mmcv_reference
    boxes, scores = _random_boxes(1000, 7, ties=True)
    dets, keep = tvn.nms(boxes, scores, 0.5, **kwargs)
    ref_dets, ref_keep = ref_nms(boxes, scores, 0.5, **kwargs)
    assert torch.equal(keep, ref_keep)
    assert torch.equal(dets, ref_dets)


def test_nms_offset_one_matches_mmcv(mmcv_reference):
    """Integer pixel boxes (where ``offset=1`` is used)."""
    ref_nms, _ = mmcv_reference
    boxes, scores = _random_boxes(1000, 9, ties=True)
    boxes = boxes.round()
    for iou in (0.3, 0.5):
        assert torch.equal(
            tvn.nms(boxes, scores, iou, offset=1)[1],
            ref_nms(boxes, scores, iou, offset=1)[1])


def test_nms_numpy_and_empty(mmcv_reference):
    ref_nms, _ = mmcv_reference
    boxes, scores = _random_boxes(300, 3, ties=True)
    dets, keep = tvn.nms(boxes.numpy(), scores.numpy(), 0.5)
    ref_dets, ref_keep = ref_nms(boxes.numpy(), scores.numpy(), 0.5)
    assert isinstance(keep, np.ndarray)
    np.testing.assert_array_equal(keep, ref_keep)
    np.testing.assert_array_equal(dets, ref_dets)
    dets, keep = tvn.nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert dets.shape == (0, 5) and keep.shape == (0, )


def test_nms_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r'boxes must be \(N, 4\)'):
        tvn.nms(torch.zeros(3, 5), torch.zeros(3), 0.5)
    with pytest.raises(ValueError, match='scores must be'):
        tvn.nms(torch.zeros(3, 4), torch.zeros(2), 0.5)
    with pytest.raises(ValueError, match='offset'):
        tvn.nms(torch.zeros(3, 4), torch.zeros(3), 0.5, offset=2)


@pytest.mark.parametrize('nms_cfg', [
    dict(type='nms', iou_threshold=0.45),  # one NMS, offset trick
    dict(type='nms', iou_threshold=0.45, split_thr=0),  # per class
    dict(type='nms', iou_threshold=0.45, split_thr=0, max_num=100),
    dict(type='nms', iou_threshold=0.45, max_num=100),
    dict(type='nms', iou_threshold=0.5, class_agnostic=True),
    dict(type='nms', iou_threshold=0.5, class_agnostic=True, split_thr=0),
    None,
])
def test_batched_nms_matches_mmcv_on_ssd_outputs(mmcv_reference, nms_cfg):
    _, ref_batched = mmcv_reference
    for seed in range(2):
        boxes, scores, labels = _ssd_outputs(seed)
        cfg = None if nms_cfg is None else dict(nms_cfg)
        dets, keep = tvn.batched_nms(boxes, scores, labels, cfg)
        ref_dets, ref_keep = ref_batched(
            boxes, scores, labels, None if nms_cfg is None else
            dict(nms_cfg))
        assert len(keep) > 50
        assert torch.equal(keep, ref_keep)
        assert torch.equal(dets, ref_dets)


def test_batched_nms_runs_through_torchvision(monkeypatch):
    calls = []
    real_nms = torchvision.ops.nms

    def spy(boxes, scores, iou_threshold):
        calls.append((boxes.dtype, scores.dtype, iou_threshold))
        return real_nms(boxes, scores, iou_threshold)

    monkeypatch.setattr(torchvision.ops, 'nms', spy)
    boxes, scores, labels = _ssd_outputs(0)
    mmcv.ops.batched_nms(
        boxes.bfloat16(), scores.bfloat16(), labels,
        dict(type='nms', iou_threshold=0.45, split_thr=0))
    assert len(calls) == len(labels.unique())
    assert all(c[:2] == (torch.float32, torch.float32) for c in calls)
    assert calls[0][2] == float(np.float32(0.45))


def test_bf16_inputs(mmcv_reference):
    """bf16 fails in mmcv's kernel; here it gives mmcv's float32 result
    on the same (upcast) values."""
    ref_nms, ref_batched = mmcv_reference
    boxes, scores, labels = _ssd_outputs(1)
    b16, s16 = boxes.bfloat16(), scores.bfloat16()
    with pytest.raises(RuntimeError, match='Float|BFloat16'):
        ref_nms(b16, s16, 0.45)
    dets, keep = tvn.nms(b16, s16, 0.45)
    assert dets.dtype == torch.float32
    assert torch.equal(keep, ref_nms(b16.float(), s16.float(), 0.45)[1])
    for split_thr in (10000, 0):
        cfg = dict(type='nms', iou_threshold=0.45, split_thr=split_thr)
        dets, keep = tvn.batched_nms(b16, s16, labels, dict(cfg))
        ref = ref_batched(b16.float(), s16.float(), labels, dict(cfg))
        assert dets.dtype == torch.float32
        assert torch.equal(keep, ref[1])
        assert torch.equal(dets, ref[0])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        dets, keep = tvn.batched_nms(b16, s16, labels, dict(cfg))
    assert dets.dtype == torch.float32 and len(keep) > 0


def test_installed_at_every_ssd_import_site():
    from mmdet.models.dense_heads import base_dense_head
    from mmdet.models.layers import bbox_nms
    assert base_dense_head.batched_nms is tvn.batched_nms
    assert bbox_nms.batched_nms is tvn.batched_nms
    assert mmcv.ops.batched_nms is tvn.batched_nms
    assert NMS_MODULE.nms is tvn.nms
    assert NMS_MODULE.batched_nms is tvn.batched_nms
    assert mmcv.ops.nms is tvn.nms
    assert tvn.install_torchvision_nms() == []  # idempotent


def test_restore_mmcv_nms_undoes_the_install():
    from mmdet.models.dense_heads import base_dense_head
    try:
        restored = tvn.restore_mmcv_nms()
        assert 'mmdet.models.dense_heads.base_dense_head.batched_nms' in (
            restored)
        assert base_dense_head.batched_nms is tvn._mmcv('batched_nms')
        assert mmcv.ops.nms is tvn._mmcv('nms')
        assert tvn.restore_mmcv_nms() == []
    finally:
        installed = tvn.install_torchvision_nms()
    assert sorted(installed) == sorted(restored)
    assert base_dense_head.batched_nms is tvn.batched_nms


@pytest.mark.parametrize('device,key', [('cpu', 'CPU'), ('cuda', 'CUDA')])
def test_dispatch_key_of_each_device(device, key):
    """A CUDA tensor reaches torchvision's CUDA kernel, which this wheel
    ships (mmcv built without nvcc has none)."""
    assert tvn.nms_dispatch_key(device) == key
    assert torch._C._dispatch_has_kernel_for_dispatch_key(
        'torchvision::nms', key)


def test_dispatch_key_refuses_unknown_device():
    with pytest.raises(RuntimeError, match="no NMS kernel for device 'xyz'"):
        tvn.nms_dispatch_key('xyz')
