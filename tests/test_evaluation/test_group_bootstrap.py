# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Group resampling weights and percentile intervals."""
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import (group_resample_weights,
                                             percentile_interval)


def test_each_resample_draws_as_many_groups_as_there_are():
    groups = ['nih:1'] * 3 + ['nih:2'] * 2 + [f'vinbig:{i}' for i in range(5)]
    weights = group_resample_weights(groups, 500, seed=0)
    assert weights.shape == (500, 10)
    # images of one patient share a weight
    assert (weights[:, :3] == weights[:, :1]).all()
    assert (weights[:, 3:5] == weights[:, 3:4]).all()
    # 7 groups drawn per resample
    drawn = weights[:, 0] + weights[:, 3] + weights[:, 5:].sum(axis=1)
    assert (drawn == 7).all()
    # uniform draws: each group drawn once on average
    assert abs(weights[:, 5:].mean() - 1) < 0.1


def test_the_seed_fixes_the_resamples():
    a = group_resample_weights(range(50), 20, seed=3)
    assert (a == group_resample_weights(range(50), 20, seed=3)).all()
    assert (a != group_resample_weights(range(50), 20, seed=4)).any()


def test_percentile_interval_leaves_out_undefined_resamples():
    out = percentile_interval(np.r_[np.arange(101.0), np.nan], 0.9)
    assert out == dict(low=pytest.approx(5.0), high=pytest.approx(95.0),
                       n_boot=101, level=0.9)
    assert np.isnan(percentile_interval([np.nan])['low'])


@pytest.mark.parametrize('bad', [dict(n_boot=0), dict(n_boot=2.5)])
def test_bad_arguments_name_the_value(bad):
    with pytest.raises(ValueError, match='n_boot'):
        group_resample_weights(range(3), **bad)
    with pytest.raises(ValueError, match='level'):
        percentile_interval([1.0], 1.5)
