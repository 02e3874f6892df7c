# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The thresholds --operating-point resolves to, and their table."""
from __future__ import annotations

import json

import pytest

from cxr_mmdet.apis import format_operating_points, operating_point_thresholds

POINTS = dict(points={
    'A': dict(sens90=dict(threshold=0.2, sensitivity=0.9, fp_per_image=3.0,
                          target=0.9),
              fp1=dict(threshold=0.6, sensitivity=0.5, fp_per_image=1.0,
                       target=1.0)),
    'B': dict(sens90=dict(threshold=None, sensitivity=0.7, fp_per_image=9.0,
                          target=0.9),
              fp1=dict(threshold=0.4, sensitivity=0.3, fp_per_image=0.9,
                       target=1.0))
})


def test_named_points_beside_the_checkpoint_or_in_a_file(tmp_path):
    (tmp_path / 'operating_points.json').write_text(json.dumps(POINTS))
    ckpt = str(tmp_path / 'best.pth')
    assert operating_point_thresholds('fp1', ckpt, ['A', 'B']) == [0.6, 0.4]
    # out of reach on val: keep every detection of that class
    assert operating_point_thresholds('sens90', ckpt, ['A', 'B']) == [0.2, 0]
    other = tmp_path / 'other.json'
    other.write_text(json.dumps(POINTS))
    assert operating_point_thresholds(f'{other}:fp1', 'x.pth',
                                      ['A', 'B']) == [0.6, 0.4]
    with pytest.raises(ValueError, match="no operating point 'sens80'"):
        operating_point_thresholds('sens80', ckpt, ['A', 'B'])
    with pytest.raises(FileNotFoundError, match='tools/test.py --split val'):
        operating_point_thresholds('fp1', str(tmp_path / 'x' / 'c.pth'), [])


def test_table_lists_every_class_and_point():
    table = format_operating_points(POINTS, 'val')
    assert table.count('sens90') == 2 and table.count('fp1') == 2
    assert 'n/a' in table  # the unreachable threshold


def test_per_class_thresholds_keep_each_class_at_its_own():
    import numpy as np

    from cxr_mmdet.apis.inference import detections_in_input_frame
    from cxr_mmdet.deployment import Detections
    dets = Detections.of(
        np.array([[0., 0, 10, 10]] * 4), np.array([0.3, 0.5, 0.3, 0.5]),
        np.array([0, 0, 1, 1]))
    kept = detections_in_input_frame(dets, (100, 100), 100, 100, ['A', 'B'],
                                     [0.4, 0.2])
    assert sorted((d['class'], d['score']) for d in kept) == [
        ('A', 0.5), ('B', 0.3), ('B', 0.5)]
    assert len(
        detections_in_input_frame(dets, (100, 100), 100, 100, ['A', 'B'],
                                  0.4)) == 2
