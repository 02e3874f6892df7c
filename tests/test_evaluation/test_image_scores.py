# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image-level class scores from detections."""
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import (image_class_scores,
                                             image_score_matrix)


def test_max_score_per_class_and_zero_when_absent():
    labels = np.array([4, 0, 4, 4, 2])
    scores = np.array([0.2, 0.35, 0.8, 0.5, 0.1])
    out = image_class_scores(labels, scores, 6)
    np.testing.assert_array_equal(out, [0.35, 0, 0.1, 0, 0.8, 0])
    assert out.dtype == np.float64


def test_no_detection_gives_zeros():
    out = image_class_scores(np.zeros(0, np.int64), np.zeros(0), 6)
    np.testing.assert_array_equal(out, np.zeros(6))


def test_matrix_stacks_images():
    out = image_score_matrix(
        [np.array([1]), np.array([], dtype=np.int64), [0, 1, 1]],
        [np.array([0.9]), np.array([]), [0.3, 0.2, 0.6]], 3)
    np.testing.assert_array_equal(out, [[0, 0.9, 0], [0, 0, 0], [0.3, 0.6, 0]])


@pytest.mark.parametrize('labels, scores, message', [
    ([0, 6], [0.1, 0.2], r'lie in \[0, 6\)'),
    ([-1], [0.1], r'lie in \[0, 6\)'),
    ([0, 1], [0.1], 'same length'),
    ([0.5], [0.1], 'integers'),
    ([0], [float('nan')], 'finite'),
])
def test_malformed_input_is_rejected(labels, scores, message):
    with pytest.raises(ValueError, match=message):
        image_class_scores(labels, scores, 6)


def test_matrix_needs_matching_lists():
    with pytest.raises(ValueError, match='same images'):
        image_score_matrix([[0]], [], 6)
