# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""WBF fusion of views worked out by hand, and of identical models."""
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.deployment import Detections, FusedDetector, fuse_detections


def test_wbf_on_hand_made_boxes():
    # view a: class 0 box A (0.9) and class 2 box C (0.5);
    # view b: class 0 box B (0.3) overlapping A at IoU 0.667, and class 1
    # box D exactly on A (another class: not fused with A)
    a = Detections.of([[10, 10, 50, 50], [60, 60, 90, 90]], [0.9, 0.5],
                      [0, 2])
    b = Detections.of([[18, 10, 58, 50], [10, 10, 50, 50]], [0.3, 0.6],
                      [0, 1])
    fused = fuse_detections([a, b], 100, 100, iou_thr=0.4)
    by_label = {int(l): (box, s) for box, s, l in zip(*fused)}
    assert sorted(by_label) == [0, 1, 2]
    box, score = by_label[0]
    # score-weighted mean box: x1 = (0.9 * 10 + 0.3 * 18) / 1.2 = 12
    np.testing.assert_allclose(box, [12, 10, 52, 50], atol=1e-4)
    assert score == pytest.approx((0.9 + 0.3) / 2)  # both views found it
    # found by one of the two views: half the score
    assert by_label[1][1] == pytest.approx(0.6 / 2)
    assert by_label[2][1] == pytest.approx(0.5 / 2)
    np.testing.assert_allclose(by_label[2][0], [60, 60, 90, 90], atol=1e-4)
    assert fused.scores.tolist() == sorted(fused.scores.tolist(),
                                           reverse=True)
    # below the IoU threshold the two class-0 boxes stay apart
    apart = fuse_detections([a, b], 100, 100, iou_thr=0.7)
    assert (apart.labels == 0).sum() == 2
    # skip_thr drops the 0.3 box before fusing
    skipped = fuse_detections([a, b], 100, 100, skip_thr=0.35)
    assert skipped.scores[skipped.labels == 0] == pytest.approx([0.45])


def test_flip_views_are_mirrored_back():
    class Mirrored:
        classes = ['a']

        def __call__(self, img):
            # "sees" a box at the left edge of whatever it is given
            return Detections.of([[0, 0, 10, 10]], [0.8], [0])

    fused = FusedDetector([Mirrored()], tta='flip', iou_thr=0.4)
    views = fused.views(np.zeros((20, 100, 3), np.uint8))
    assert views[1].boxes.tolist() == [[90.0, 0.0, 100.0, 10.0]]
    out = fused(np.zeros((20, 100, 3), np.uint8))
    assert len(out.boxes) == 2 and out.scores == pytest.approx([0.4, 0.4])


def test_two_identical_models_give_the_single_models_boxes(
        tiny, pytorch_detector):
    """At a WBF IoU above the detector's NMS IoU (0.45: no two boxes of a
    class in one model's output overlap that much), each box fuses only
    with its copy. At 0.4 WBF may also merge a model's own neighbours."""
    fused = FusedDetector([pytorch_detector, pytorch_detector],
                          iou_thr=0.5)
    for img in tiny['arrays'][:2]:
        single = pytorch_detector(img)
        both = fused(img)
        assert len(both.boxes) == len(single.boxes)
        order = np.lexsort((single.boxes[:, 0], -single.scores))
        order_b = np.lexsort((both.boxes[:, 0], -both.scores))
        np.testing.assert_allclose(both.scores[order_b],
                                   single.scores[order], atol=1e-6)
        np.testing.assert_allclose(both.boxes[order_b],
                                   single.boxes[order], atol=1e-3)
        assert np.array_equal(both.labels[order_b], single.labels[order])
