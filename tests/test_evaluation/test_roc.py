# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ROC curve and AUC against scikit-learn (a test-only reference)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from cxr_mmdet.evaluation.functional import auc_from_curve, roc_auc, roc_curve


@pytest.mark.parametrize('seed', range(20))
def test_auc_matches_sklearn_on_random_data_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 400))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]  # both classes present
    if seed % 2:
        # heavy ties: scores on a coarse grid, like rounded probabilities
        scores = rng.integers(0, 6, n) / 5.0
    else:
        scores = rng.random(n) + 0.3 * labels
    assert abs(roc_auc(scores, labels) - roc_auc_score(labels, scores)) \
        < 1e-9


@pytest.mark.parametrize('drop', [True, False])
@pytest.mark.parametrize('seed', range(5))
def test_curve_matches_sklearn(seed, drop):
    rng = np.random.default_rng(100 + seed)
    labels = rng.integers(0, 2, 60)
    labels[:2] = [0, 1]
    scores = rng.integers(0, 10, 60) / 10.0
    fpr, tpr, thr = roc_curve(scores, labels, drop_intermediate=drop)
    sk_fpr, sk_tpr, sk_thr = sk_roc_curve(
        labels, scores, drop_intermediate=drop)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    # sklearn >= 1.3 puts inf first, like us
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert thr[0] == np.inf
    assert abs(auc_from_curve(fpr, tpr) - roc_auc_score(labels, scores)) \
        < 1e-9


def test_hand_made_auc_values():
    # perfect, reversed and all-tied rankings
    assert roc_auc([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    assert roc_auc([0.1, 0.2, 0.9], [1, 1, 0]) == 0.0
    assert roc_auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]) == 0.5
    # one of two positive/negative pairs ordered, one tied: (1 + 0.5) / 2
    assert roc_auc([0.7, 0.4, 0.4], [1, 1, 0]) == 0.75
    assert roc_auc(np.array([0.7, 0.4, 0.4]), np.array([True, True,
                                                        False])) == 0.75


def test_tied_scores_make_a_diagonal_step():
    fpr, tpr, thr = roc_curve([0.5, 0.5], [1, 0], drop_intermediate=False)
    assert fpr.tolist() == [0.0, 1.0]
    assert tpr.tolist() == [0.0, 1.0]
    assert thr.tolist() == [np.inf, 0.5]


def test_single_class_is_nan_for_auc_and_an_error_for_the_curve():
    assert math.isnan(roc_auc([0.1, 0.9], [1, 1]))
    assert math.isnan(roc_auc([0.1, 0.9], [0, 0]))
    with pytest.raises(ValueError, match='0 negatives'):
        roc_curve([0.1, 0.9], [1, 1])
    with pytest.raises(ValueError, match='0 positives'):
        roc_curve([0.1, 0.9], [0, 0])


@pytest.mark.parametrize('scores, labels, message', [
    ([0.1, 0.2], [0, 1, 1], 'same length'),
    ([[0.1, 0.2]], [[0, 1]], '1-D'),
    ([0.1, float('nan')], [0, 1], 'finite'),
    ([0.1, 0.2], [0, 2], 'must be 0 or 1'),
])
def test_malformed_input_is_rejected(scores, labels, message):
    with pytest.raises(ValueError, match=message):
        roc_auc(scores, labels)
    with pytest.raises(ValueError, match=message):
        roc_curve(scores, labels)
