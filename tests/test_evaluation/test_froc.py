# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""FROC on hand-made cases with known answers, and a brute-force check."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import (FROC_FP_RATES, box_iou,
                                             froc_curve, froc_score,
                                             match_detections, sensitivity_at)


def two_image_case():
    """Two images, four lesions; the answers are worked out by hand."""
    pred_bboxes = [
        np.array([
            [0, 0, 10, 10],  # .9 cls 0: hits lesion a1
            [0, 0, 10, 10],  # .8 cls 0: a1 taken -> FP
            [20, 20, 30, 30],  # .6 cls 0: right box, wrong class
            [21, 21, 31, 31]
        ]),  # .3 cls 1: IoU 81/119 -> hits a2
        np.array([
            [0, 0, 10, 4],  # .7 cls 2: IoU exactly 0.4 -> hit
            [50, 50, 60, 53.9],  # .5 cls 2: IoU 0.39 -> FP
            [100, 100, 110, 110]
        ]),  # .2: FP
    ]
    pred_scores = [np.array([0.9, 0.8, 0.6, 0.3]), np.array([0.7, 0.5, 0.2])]
    pred_labels = [np.array([0, 0, 0, 1]), np.array([2, 2, 2])]
    gt_bboxes = [
        np.array([[0, 0, 10, 10], [20, 20, 30, 30]]),
        np.array([[0, 0, 10, 10], [50, 50, 60, 60]])
    ]
    gt_labels = [np.array([0, 1]), np.array([2, 2])]
    return pred_bboxes, pred_scores, pred_labels, gt_bboxes, gt_labels


def test_box_iou_hand_values():
    iou = box_iou(
        [[0, 0, 10, 10]],
        [[0, 0, 10, 4], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 3]])
    np.testing.assert_allclose(iou, [[0.4, 50 / 150, 0.0, 0.0]])


def test_matching_of_the_hand_made_case():
    case = two_image_case()
    hits = [
        match_detections(*(part[i] for part in case)).tolist()
        for i in range(2)
    ]
    assert hits == [[True, False, False, True], [True, False, False]]


def test_matching_is_greedy_by_score_not_by_iou():
    # the higher-scoring, worse-fitting box takes the lesion
    hits = match_detections([[0, 0, 10, 10], [0, 0, 10, 5]], [0.8, 0.9],
                            [0, 0], [[0, 0, 10, 10]], [0])
    assert hits.tolist() == [False, True]


def test_matching_takes_the_best_unmatched_lesion():
    gt = [[0, 0, 10, 10], [0, 4, 10, 14]]
    # first box fits lesion 1 best (IoU 1), second then takes lesion 0
    hits = match_detections([[0, 4, 10, 14], [0, 2, 10, 12]], [0.9, 0.8],
                            [3, 3], gt, [3, 3])
    assert hits.tolist() == [True, True]
    # a lower threshold than the default changes nothing; a higher one does
    hits = match_detections([[0, 0, 10, 4]], [0.9], [0], [[0, 0, 10, 10]], [0],
                            iou_thr=0.5)
    assert hits.tolist() == [False]


def test_froc_curve_and_score_of_the_hand_made_case():
    case = two_image_case()
    fppi, sens, thr = froc_curve(*case)
    np.testing.assert_allclose(fppi, [0, 0, 0.5, 0.5, 1, 1.5, 1.5, 2])
    np.testing.assert_allclose(sens,
                               [0, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75])
    np.testing.assert_allclose(thr, [np.inf, .9, .8, .7, .6, .5, .3, .2])
    out = froc_score(*case)
    expected = [0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.75]
    np.testing.assert_allclose(out['sensitivities'], expected)
    assert out['froc'] == pytest.approx(3.75 / 7, abs=1e-12)
    assert out['fp_rates'] == FROC_FP_RATES
    assert (out['num_lesions'], out['num_images']) == (4, 2)


def test_tied_scores_share_one_operating_point():
    # a hit and an FP tied at 0.5 in two images: no point where the hit
    # counts and the FP does not
    out = froc_score([[[0, 0, 4, 4]], [[9, 9, 12, 12]]], [[0.5], [0.5]],
                     [[0], [0]],
                     [[[0, 0, 4, 4]], np.zeros((0, 4))], [[0], []],
                     fp_rates=(0.25, 0.5))
    np.testing.assert_allclose(out['sensitivities'], [0.0, 1.0])
    np.testing.assert_allclose(out['fp_per_image'], [0, 0.5])


def test_perfect_empty_and_lesion_free_cases():
    gt = [np.array([[0, 0, 5, 5]]), np.array([[1, 1, 6, 6], [7, 7, 9, 9]])]
    gl = [np.array([1]), np.array([0, 5])]
    perfect = froc_score(gt, [[0.9], [0.8, 0.7]], gl, gt, gl)
    assert perfect['froc'] == 1.0
    empty = [np.zeros((0, 4)), np.zeros((0, 4))]
    nothing = froc_score(empty, [[], []], [[], []], gt, gl)
    assert nothing['froc'] == 0.0
    assert nothing['sensitivities'].tolist() == [0.0] * 7
    no_lesion = froc_score(gt, [[0.9], [0.8, 0.7]], gl, empty, [[], []])
    assert math.isnan(no_lesion['froc'])
    assert no_lesion['num_lesions'] == 0
    with pytest.raises(ValueError, match='at least one lesion'):
        froc_curve(gt, [[0.9], [0.8, 0.7]], gl, empty, [[], []])


def test_many_false_positives_read_before_the_rate_is_exceeded():
    # one image, one lesion found at rank 10: 9 FPs before it
    boxes = np.array([[100 + 10 * k, 0, 105 + 10 * k, 5]
                      for k in range(9)] + [[0, 0, 5, 5]])
    scores = np.linspace(1.0, 0.1, 10)
    out = froc_score([boxes], [scores], [np.zeros(10)], [[[0, 0, 5, 5]]],
                     [[0]])
    assert out['sensitivities'].tolist() == [0.0] * 7
    out = froc_score([boxes[::-1]], [scores], [np.zeros(10)], [[[0, 0, 5, 5]]],
                     [[0]])
    assert out['sensitivities'].tolist() == [1.0] * 7


def brute_force_sensitivity(case, rate, iou_thr=0.4):
    """Re-match from scratch at every threshold; best sensitivity within
    ``rate`` FPs per image."""
    pb, ps, pl, gb, gl = case
    num_lesions = sum(len(g) for g in gl)
    best = 0.0
    for t in np.unique(np.concatenate([np.ravel(s) for s in ps])):
        tp = fp = 0
        for i in range(len(pb)):
            keep = np.asarray(ps[i]) >= t
            hits = match_detections(pb[i][keep], ps[i][keep], pl[i][keep],
                                    gb[i], gl[i], iou_thr)
            tp += int(hits.sum())
            fp += int((~hits).sum())
        if fp / len(pb) <= rate:
            best = max(best, tp / num_lesions)
    return best


@pytest.mark.parametrize('seed', range(4))
def test_matches_brute_force_rematching(seed):
    rng = np.random.default_rng(seed)
    case = ([], [], [], [], [])
    for _ in range(6):
        g = int(rng.integers(0, 4))
        xy = rng.uniform(0, 60, (g, 2))
        gt = np.c_[xy, xy + rng.uniform(5, 20, (g, 2))]
        k = int(rng.integers(0, 10))
        src = gt[rng.integers(0, g, k)] if g else np.zeros((k, 4))
        pred = src + rng.normal(0, 3, (k, 4))
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        case[0].append(pred)
        case[1].append(np.round(rng.random(k), 1))  # ties on purpose
        case[2].append(rng.integers(0, 2, k))
        case[3].append(gt)
        case[4].append(rng.integers(0, 2, g))
    if sum(len(g) for g in case[4]) == 0:
        pytest.skip('no lesion drawn')
    out = froc_score(*case)
    expected = [brute_force_sensitivity(case, r) for r in FROC_FP_RATES]
    np.testing.assert_allclose(out['sensitivities'], expected, atol=1e-12)


def test_an_inverted_predicted_box_is_a_miss_not_an_error():
    # (x2 < x1 and y2 < y1: a positive "area" if not clipped)
    hits = match_detections([[10, 10, 0, 0], [0, 0, 10, 10]], [0.9, 0.5],
                            [0, 0], [[0, 0, 10, 10]], [0])
    assert hits.tolist() == [False, True]
    np.testing.assert_array_equal(
        box_iou([[10, 10, 0, 0]], [[0, 0, 10, 10]]), [[0.0]])


def test_sensitivity_at_reads_the_step_curve():
    np.testing.assert_allclose(
        sensitivity_at([0, 0.1, 0.5, 2], [0, 0.2, 0.6, 0.9], [0.05, 0.5, 1]),
        [0, 0.6, 0.6])


@pytest.mark.parametrize('kwargs, message', [
    (dict(pred_bboxes=[[[0, 0, 1]]]), r'shape \(K, 4\)'),
    (dict(gt_bboxes=[[[2, 0, 1, 1]]]), 'gt_bboxes need x2 >= x1'),
    (dict(pred_scores=[[0.1, 0.2]]), 'pred_scores must have 1 entries'),
    (dict(gt_labels=[[]]), 'gt_labels must have 1 entries'),
    (dict(gt_bboxes=[[[0, 0, 1, 1]], []]), 'same images'),
    (dict(fp_rates=(0, 1)), 'fp_rates must be positive'),
    (dict(iou_thr=0.0), 'iou_thr'),
])
def test_malformed_input_is_rejected(kwargs, message):
    args = dict(
        pred_bboxes=[[[0, 0, 1, 1]]],
        pred_scores=[[0.5]],
        pred_labels=[[0]],
        gt_bboxes=[[[0, 0, 1, 1]]],
        gt_labels=[[0]])
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        froc_score(**args)
