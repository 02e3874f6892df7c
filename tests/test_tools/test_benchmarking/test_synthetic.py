# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The fixed batch given to both detectors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cxr_mmdet.benchmarks.synthetic import (mmdet_inputs, synthetic_batch,
                                            torchvision_inputs)


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
