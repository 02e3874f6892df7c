# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Per-class operating points from FROC hits."""
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import froc_entries
from cxr_mmdet.evaluation.functional.operating_points import (
    achieved_at, choose_operating_points)
from .resampling_cases import detection_images, froc_inputs

CLASSES = [f'c{k}' for k in range(6)]


def test_thresholds_reach_their_targets_and_are_the_tightest():
    hits = froc_entries(*froc_inputs(detection_images(60)))
    points = choose_operating_points(hits, CLASSES, 0.9, 1.0)
    for c, name in enumerate(CLASSES):
        sens = points[name]['sens90']
        assert sens['sensitivity'] >= 0.9
        # a hair higher and the sensitivity falls under the target
        above = achieved_at(hits, c, np.nextafter(sens['threshold'], 2))
        assert above['sensitivity'] < 0.9
        fp = points[name]['fp1']
        assert fp['fp_per_image'] <= 1.0
        below = achieved_at(hits, c, np.nextafter(fp['threshold'], -1))
        assert fp['threshold'] == 0.0 or below['fp_per_image'] > 1.0


def test_an_unreachable_sensitivity_has_no_threshold():
    hits = dict(lesion_scores=np.array([0.8, -np.inf]),
                lesion_labels=np.array([0, 0]), fp_scores=np.zeros(0),
                fp_labels=np.zeros(0, int), num_images=1)
    point = choose_operating_points(hits, ['A'], 0.9, 1)['A']['sens90']
    assert point['threshold'] is None and point['sensitivity'] == 0.0
    with pytest.raises(ValueError, match='target_sensitivity'):
        choose_operating_points(hits, ['A'], 1.5, 1)
