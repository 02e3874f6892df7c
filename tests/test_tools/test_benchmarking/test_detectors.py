# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The fixed synthetic batch and the detector variants built around it."""
from __future__ import annotations


import numpy as np
import pytest
import torch
from benchmarking.detectors import (build_detectors,
                                    build_torchvision_detector,
                                    config_uses_channels_last, mmdet_inputs,
                                    synthetic_batch, torchvision_inputs)

from cxr_mmdet.testing import get_config_path

CONFIG = get_config_path('ssd/ssd300_vgg16_1xb64-300e_cxr6.py')


def test_synthetic_batch_is_seeded_and_valid():
    a = synthetic_batch(3, size=64, max_boxes=2, seed=1)
    b = synthetic_batch(3, size=64, max_boxes=2, seed=1)
    assert a.images.shape == (3, 3, 64, 64) and a.images.dtype == np.uint8
    np.testing.assert_array_equal(a.images, b.images)
    # grayscale radiographs repeated over the channels
    np.testing.assert_array_equal(a.images[:, 0], a.images[:, 2])
    for boxes, labels in zip(a.boxes, a.labels):
        assert 1 <= len(boxes) == len(labels) <= 2
        assert (boxes[:, 2:] > boxes[:, :2]).all()
        assert boxes.min() >= 0 and boxes.max() <= 63
        assert ((labels >= 0) & (labels < 6)).all()


def test_both_formats_carry_the_same_batch():
    batch = synthetic_batch(2, size=64, seed=3)
    mm = mmdet_inputs(batch)
    images, targets = torchvision_inputs(batch)
    for i in range(2):
        assert torch.equal(mm['inputs'][i], images[i])
        sample = mm['data_samples'][i]
        assert sample.metainfo['ori_shape'] == (64, 64)
        assert torch.equal(sample.gt_instances.bboxes.tensor,
                           targets[i]['boxes'])
        # torchvision's label 0 is background
        assert torch.equal(sample.gt_instances.labels + 1,
                           targets[i]['labels'])


def test_synthetic_batch_rejects_bad_sizes():
    with pytest.raises(ValueError, match='batch_size'):
        synthetic_batch(0)


def test_torchvision_detector_and_its_bf16_nhwc_variant():
    # (its training step runs in tests/test_tools/test_benchmark.py)
    batch = synthetic_batch(1, size=300, seed=0)
    det = build_torchvision_detector(batch)
    assert det.name == 'torchvision' and det.count == 1
    # 6 classes + background
    head = det.model.head.classification_head.module_list[0]
    assert head.out_channels == 4 * 7
    assert not head.weight.is_contiguous(memory_format=torch.channels_last)
    (copy, ) = build_detectors(CONFIG, batch,
                               ('torchvision_bf16', )).values()
    assert copy.name == 'torchvision_bf16'
    head = copy.model.head.classification_head.module_list[0]
    assert head.weight.is_contiguous(memory_format=torch.channels_last)
    assert head.weight.dtype == torch.float32  # autocast, fp32 weights
    out = copy.infer_step()
    assert len(out) == 1 and out[0]['boxes'].shape[1] == 4
    assert int(out[0]['labels'].min()) >= 1


def test_config_uses_channels_last_reads_custom_hooks():
    from mmengine.config import Config

    assert not config_uses_channels_last(Config(dict(custom_hooks=[])))
    assert not config_uses_channels_last(
        Config(dict(custom_hooks=[dict(type='ClassWeightHook')])))
    assert config_uses_channels_last(
        Config(dict(custom_hooks=[dict(type='ChannelsLastHook')])))


def test_build_detectors_rejects_unknown_variants():
    with pytest.raises(ValueError, match='unknown variants'):
        build_detectors(CONFIG, synthetic_batch(1), ('plugin_fp16', ))


def test_mmcv_nms_variant_runs_mmcv_kernel_only_inside_its_step():
    """The inference-only variant reaches mmcv's own ``nms`` during its
    step, and torchvision's NMS is bound again afterwards."""
    import mmcv.ops
    from mmdet.models.dense_heads import base_dense_head

    from cxr_mmdet.compat import torchvision_nms as tvn
    batch = synthetic_batch(1, size=300, seed=0)
    (det, ) = build_detectors(CONFIG, batch,
                              ('plugin_fp32_nhwc_mmcv_nms', )).values()
    seen = []
    original = tvn._mmcv('batched_nms')

    def spy(*args, **kwargs):
        seen.append(base_dense_head.batched_nms is spy)
        return original(*args, **kwargs)

    tvn._MMCV['batched_nms'] = spy
    try:
        det.infer_step()
    finally:
        tvn._MMCV['batched_nms'] = original
    assert seen and all(seen)
    assert base_dense_head.batched_nms is tvn.batched_nms
    assert mmcv.ops.nms is tvn.nms
