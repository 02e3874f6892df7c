# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Bootstrap AUC: against scikit-learn, a known AUC and DeLong's interval."""
from __future__ import annotations

import numpy as np
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from cxr_mmdet.evaluation.functional import (auc_resampled,
                                             group_resample_weights,
                                             percentile_interval)
from .resampling_cases import binormal


def delong_interval(scores, labels, level=0.95):
    """DeLong, DeLong & Clarke-Pearson (1988): AUC and its normal interval
    from the structural components of the Mann-Whitney statistic."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    wins = (pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])
    auc = wins.mean()
    v10, v01 = wins.mean(axis=1), wins.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    half = norm.ppf((1 + level) / 2) * np.sqrt(var)
    return auc, auc - half, auc + half


def _boot_interval(scores, labels, n_boot, seed, level=0.95):
    weights = group_resample_weights(np.arange(scores.size), n_boot, seed)
    auc = auc_resampled(scores[:, None], labels[:, None], weights)[:, 0]
    return percentile_interval(auc, level)


def test_weighted_auc_is_sklearns_with_sample_weight():
    rng = np.random.default_rng(0)
    targets = (rng.random((120, 3)) < 0.3).astype(int)
    scores = rng.normal(size=(120, 3)) + targets
    scores[:60, 0] = np.round(scores[:60, 0])  # ties
    weights = group_resample_weights(np.arange(120) // 3, 20, seed=1)
    auc = auc_resampled(scores, targets, weights)
    for b in range(20):
        for c in range(3):
            assert abs(auc[b, c] - roc_auc_score(
                targets[:, c], scores[:, c], sample_weight=weights[b])) < 1e-12


def test_a_class_without_negatives_in_a_resample_is_nan():
    auc = auc_resampled([[0.9], [0.1]], [[1], [0]], [[2, 0], [1, 1]])
    assert np.isnan(auc[0, 0]) and auc[1, 0] == 1.0


def test_percentile_interval_covers_the_known_auc_95_percent_of_the_time():
    shift = 1.0
    true_auc = norm.cdf(shift / np.sqrt(2))
    rng = np.random.default_rng(2026)
    covered = 0
    for rep in range(300):
        scores, labels = binormal(120, 120, shift, rng)
        ci = _boot_interval(scores, labels, 500, seed=rep)
        covered += ci['low'] <= true_auc <= ci['high']
    assert 0.92 <= covered / 300 <= 0.98, covered


def test_interval_agrees_with_delongs_to_a_tenth_of_its_width():
    scores, labels = binormal(400, 600, 1.2, np.random.default_rng(7))
    auc, low, high = delong_interval(scores, labels)
    ci = _boot_interval(scores, labels, 2000, seed=0)
    width = high - low
    assert abs(ci['low'] - low) < 0.1 * width, (ci, low, high)
    assert abs(ci['high'] - high) < 0.1 * width, (ci, low, high)
    assert ci['low'] < auc < ci['high']


def test_width_halves_when_the_test_set_grows_four_times():
    rng = np.random.default_rng(3)
    widths = []
    for n in (100, 400):
        scores, labels = binormal(n, n, 1.0, rng)
        ci = _boot_interval(scores, labels, 1000, seed=0)
        widths.append(ci['high'] - ci['low'])
    # 1/sqrt(n): a ratio of 2
    assert 1.6 < widths[0] / widths[1] < 2.5, widths
