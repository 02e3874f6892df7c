# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from cxr_mmdet.data_prep.box_checks import (check_box_geometry,
                                            drop_small_boxes,
                                            fit_boxes_to_images)


def _boxes(rows):
    return pd.DataFrame(rows, columns=['image_id', 'x0', 'y0', 'x1', 'y1'])


def test_geometry_inverted_and_zero_area():
    boxes = _boxes([
        ('a', 10, 10, 20, 20),
        ('a', 20, 10, 10, 20),  # inverted x
        ('a', 10, 20, 20, 10),  # inverted y
        ('a', 10, 10, 10, 20),  # zero width
        ('a', 10, 10, 20, 10),  # zero height
    ])
    kept, dropped = check_box_geometry(boxes)
    xy = kept[['x0', 'y0', 'x1', 'y1']].to_numpy().tolist()
    assert xy == [[10, 10, 20, 20]]
    assert dropped == Counter(inverted_box=2, zero_area_box=2)


def test_fit_clips_within_tolerance_and_drops_beyond():
    sizes = {'a': (100, 200)}
    boxes = _boxes([
        ('a', 10, 10, 50, 50),  # inside
        ('a', -0.5, 10, 100.9, 201.5),  # within 1% -> clipped
        ('a', -1.5, 10, 50, 50),  # 1.5 px left of a 100 px image: dropped
        ('a', 10, 10, 50, 203),  # 3 px below a 200 px image: dropped
        ('a', 100.2, 10, 100.8, 50),  # right of the edge: nothing left
        ('b', 10, 10, 20, 20),  # no size: image missing
    ])
    kept, dropped, clipped = fit_boxes_to_images(boxes, sizes, 0.01)
    np.testing.assert_allclose(
        kept[['x0', 'y0', 'x1', 'y1']].to_numpy(float),
        [[10, 10, 50, 50], [0, 10, 100, 200]])
    assert clipped == 1
    assert dropped == Counter(
        outside_image=2, zero_area_after_clip=1, missing_image=1)
    kept, dropped, _ = fit_boxes_to_images(boxes, sizes, 0.0)
    assert len(kept) == 1 and dropped['outside_image'] == 4
    with pytest.raises(ValueError, match='tolerance'):
        fit_boxes_to_images(boxes, sizes, -1)


def test_small_boxes_at_output_size():
    sizes = {'a': (3000, 3000)}
    boxes = _boxes([('a', 10, 10, 13, 100), ('a', 10, 10, 20, 100)])
    # 3 px -> 0.3 px at 300: dropped; 10 px -> 1 px: kept
    kept, dropped = drop_small_boxes(boxes, sizes, 300)
    assert kept['x1'].tolist() == [20]
    assert dropped == Counter(smaller_than_1px_at_output_size=1)
    kept, dropped = drop_small_boxes(boxes, sizes, 0)
    assert len(kept) == 2 and not dropped
