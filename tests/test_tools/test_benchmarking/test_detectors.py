# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The torchvision detector of the comparison and the channels-last copy."""
from __future__ import annotations

import torch

from cxr_mmdet.benchmarks.detectors import (build_torchvision_detector,
                                            to_channels_last)
from cxr_mmdet.benchmarks.synthetic import synthetic_batch


def test_torchvision_detector_and_its_channels_last_copy():
    # (its training step runs in tests/test_tools/test_benchmark.py)
    batch = synthetic_batch(1, size=300, seed=0)
    det = build_torchvision_detector(batch)
    assert det.name == 'torchvision' and det.count == 1
    # 6 classes + background
    head = det.model.head.classification_head.module_list[0]
    assert head.out_channels == 4 * 7
    assert not head.weight.is_contiguous(memory_format=torch.channels_last)
    copy = to_channels_last(det)
    assert copy.name == 'torchvision_channels_last'
    assert head.weight.is_contiguous(memory_format=torch.channels_last)
    out = copy.infer_step()
    assert len(out) == 1 and out[0]['boxes'].shape[1] == 4
    assert int(out[0]['labels'].min()) >= 1


def test_config_uses_channels_last_reads_custom_hooks():
    from mmengine.config import Config

    from cxr_mmdet.benchmarks.detectors import config_uses_channels_last
    assert not config_uses_channels_last(Config(dict(custom_hooks=[])))
    assert not config_uses_channels_last(
        Config(dict(custom_hooks=[dict(type='ClassWeightHook')])))
    assert config_uses_channels_last(
        Config(dict(custom_hooks=[dict(type='ChannelsLastHook')])))
