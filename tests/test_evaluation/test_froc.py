# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""FROC as LUNA16 defines it: hand-made cases whose figures are worked out
here, and a check against a brute-force re-count at every threshold."""
from __future__ import annotations

import math

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import (FROC_FP_RATES, box_iou,
                                             froc_score, match_detections,
                                             sensitivity_at)
from cxr_mmdet.evaluation.functional.froc import froc_entries


def two_image_case():
    """Two images, four lesions (a1, a2 in image 0; b1, b2 in image 1)."""
    pred_bboxes = [
        np.array([
            [0, 0, 10, 10],  # .9 cls 0: finds a1
            [0, 0, 10, 10],  # .8 cls 0: a1 again -> repeat hit, ignored
            [20, 20, 30, 30],  # .6 cls 0: a2's box, wrong class -> FP
            [21, 21, 31, 31],  # .3 cls 1: IoU 81/119 with a2 -> finds a2
        ]),
        np.array([
            [0, 0, 10, 4],  # .7 cls 2: IoU 40/100 = 0.4 with b1 -> finds b1
            [50, 50, 60, 53.9],  # .5 cls 2: IoU 39/100 with b2 -> FP
            [100, 100, 110, 110],  # .2 cls 2: overlaps nothing -> FP
        ]),
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
    # 40/100, 50/(100+100-50), disjoint, empty box
    np.testing.assert_allclose(iou, [[0.4, 50 / 150, 0.0, 0.0]])


def test_hits_of_the_hand_made_case():
    case = two_image_case()
    hits0 = match_detections(case[0][0], case[2][0], case[3][0], case[4][0])
    hits1 = match_detections(case[0][1], case[2][1], case[3][1], case[4][1])
    assert hits0.tolist() == [[True, False], [True, False], [False, False],
                              [False, True]]
    assert hits1.tolist() == [[True, False], [False, False], [False, False]]
    # IoU 0.4 is a hit at the default threshold, not at 0.5
    assert not match_detections([[0, 0, 10, 4]], [2], [[0, 0, 10, 10]], [2],
                                iou_thr=0.5).any()


def test_entries_curve_and_score_of_the_hand_made_case():
    case = two_image_case()
    entries = froc_entries(*case)
    # lesions a1, a2, b1, b2: best hitting score, b2 never found
    np.testing.assert_allclose(entries['lesion_scores'],
                               [0.9, 0.3, 0.7, -np.inf])
    np.testing.assert_allclose(entries['fp_scores'], [0.6, 0.5, 0.2])
    assert entries['num_ignored'] == 1  # the .8 repeat hit of a1
    assert (entries['num_lesions'], entries['num_images']) == (4, 2)
    # sorted: .9 TP, .7 TP, .6 FP, .5 FP, .3 TP, .2 FP; 4 lesions, 2 images
    out = froc_score(*case)
    np.testing.assert_allclose(out['fp_per_image'],
                               [0, 0, 0, 0.5, 1, 1, 1.5])
    np.testing.assert_allclose(out['sensitivity'],
                               [0, .25, .5, .5, .5, .75, .75])
    np.testing.assert_allclose(out['thresholds'],
                               [np.inf, .9, .7, .6, .5, .3, .2])
    # 1/8, 1/4: on the flat segment (0, .5)-(.5, .5) -> .5; 1/2 -> .5;
    # 1: two points at 1 FP/image, the last one (.75) is read; 2, 4, 8:
    # past the last point (1.5, .75) -> .75
    expected = [.5, .5, .5, .75, .75, .75, .75]
    np.testing.assert_allclose(out['sensitivities'], expected)
    assert out['froc'] == pytest.approx((3 * .5 + 4 * .75) / 7, abs=1e-12)
    assert out['fp_rates'] == FROC_FP_RATES
    assert (out['num_lesions'], out['num_images']) == (4, 2)


def test_a_repeat_hit_is_not_a_false_positive():
    lesion = [[[0, 0, 10, 10]]]
    once = froc_score([[[0, 0, 10, 10]]], [[0.9]], [[0]], lesion, [[0]])
    # five more boxes on the same lesion, all below the first
    many = froc_score([[[0, 0, 10, 10]] + [[0, 0, 10, 9]] * 5],
                      [[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]], [[0] * 6], lesion,
                      [[0]])
    assert once['froc'] == many['froc'] == 1.0
    assert many['num_ignored'] == 5
    np.testing.assert_array_equal(many['fp_per_image'], [0, 0])


def test_a_lesion_enters_with_its_best_hit_even_if_found_late():
    # the lower-scoring, better-fitting box does not matter: the lesion is
    # found at the score of the highest box hitting it (0.9)
    out = froc_score([[[0, 0, 10, 5], [0, 0, 10, 10], [50, 50, 60, 60]]],
                     [[0.9, 0.95, 0.92]], [[0, 1, 0]], [[[0, 0, 10, 10]]],
                     [[0]])
    # .95 (class 1, wrong class) FP, .92 FP, .9 TP: 2 FPs before the hit
    np.testing.assert_allclose(out['thresholds'], [np.inf, .95, .92, .9])
    np.testing.assert_allclose(out['fp_per_image'], [0, 1, 2, 2])
    np.testing.assert_allclose(out['sensitivity'], [0, 0, 0, 1])


def test_one_detection_hitting_two_lesions_finds_both():
    # lesions [0,0,10,10] and [0,1,10,11]; the box [0,0,10,10.5] has IoU
    # 100/105 with the first and 95/(100+100-95) = 95/105 with the second
    gt = [[[0, 0, 10, 10], [0, 1, 10, 11]]]
    out = froc_score([[[0, 0, 10, 10.5], [0, 0, 10, 10.5]]], [[0.9, 0.7]],
                     [[4, 4]], gt, [[4, 4]])
    assert out['sensitivities'].tolist() == [1.0] * 7
    assert out['num_ignored'] == 1  # the 0.7 box hits found lesions only


def test_tied_scores_make_a_diagonal_that_is_interpolated():
    # image 0: lesion found at .8 and a FP at .8 (tied); image 1: two FPs
    # at .6, then its lesion found at .5.
    # points: (0, 0), .8: (1/2, 1/2), .6: (3/2, 1/2), .5: (3/2, 1)
    pred = [[[0, 0, 10, 10], [50, 50, 60, 60]],
            [[50, 50, 60, 60], [70, 70, 80, 80], [0, 0, 10, 10]]]
    scores = [[0.8, 0.8], [0.6, 0.6, 0.5]]
    labels = [[0, 0], [0, 0, 0]]
    gt = [[[0, 0, 10, 10]], [[0, 0, 10, 10]]]
    out = froc_score(pred, scores, labels, gt, [[0], [0]])
    np.testing.assert_allclose(out['fp_per_image'], [0, .5, 1.5, 1.5])
    np.testing.assert_allclose(out['sensitivity'], [0, .5, .5, 1])
    # 1/8 -> .5 * (1/8) / (1/2) = .125; 1/4 -> .25; 1/2 -> .5;
    # 1 -> flat segment .5; 2, 4, 8 -> past the last point: 1
    expected = [.125, .25, .5, .5, 1, 1, 1]
    np.testing.assert_allclose(out['sensitivities'], expected)
    assert out['froc'] == pytest.approx(4.375 / 7, abs=1e-12)


def test_detections_of_an_ignored_class_are_dropped():
    # one image with a class-0 lesion, found at .5; the image is also
    # labelled with class 3 but has no class-3 box, and the model finds
    # class 3 at .95
    case = ([[[0, 0, 10, 10], [50, 50, 60, 60]]], [[0.5, 0.95]], [[0, 3]],
            [[[0, 0, 10, 10]]], [[0]])
    plain = froc_score(*case)
    # .95 FP: (1, 0); .5 TP: (1, 1). Below 1 FP/image: the flat segment
    # (0, 0)-(1, 0) -> 0; at 1 and beyond -> 1
    np.testing.assert_allclose(plain['sensitivities'], [0, 0, 0, 1, 1, 1, 1])
    ignored = froc_score(*case, ignored_labels=[[3]])
    assert ignored['sensitivities'].tolist() == [1.0] * 7
    assert ignored['num_dropped'] == 1
    # ignoring another class changes nothing
    other = froc_score(*case, ignored_labels=[[1, 5]])
    np.testing.assert_array_equal(other['sensitivities'],
                                  plain['sensitivities'])


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
    # no lesion: the curve is its first point alone
    assert no_lesion['fp_per_image'].tolist() == [0.0]
    assert no_lesion['sensitivity'].tolist() == [0.0]


def test_many_false_positives_before_the_lesion():
    # one image, one lesion found at rank 10: 9 FPs before it, so the
    # sensitivity is 0 up to 9 FPs/image and every rate reads 0
    boxes = np.array([[100 + 10 * k, 0, 105 + 10 * k, 5]
                      for k in range(9)] + [[0, 0, 5, 5]])
    scores = np.linspace(1.0, 0.1, 10)
    out = froc_score([boxes], [scores], [np.zeros(10)], [[[0, 0, 5, 5]]],
                     [[0]])
    assert out['sensitivities'].tolist() == [0.0] * 7
    out = froc_score([boxes[::-1]], [scores], [np.zeros(10)],
                     [[[0, 0, 5, 5]]], [[0]])
    assert out['sensitivities'].tolist() == [1.0] * 7


def _iou(a, b) -> float:
    """IoU of two boxes, written out."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    area_a = max(a[2] - a[0], 0) * max(a[3] - a[1], 0)
    area_b = max(b[2] - b[0], 0) * max(b[3] - b[1], 0)
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def brute_force_froc(case, ignored, rates, iou_thr=0.4):
    """Re-count lesions found and FPs at every threshold, then interpolate
    linearly between consecutive operating points by hand."""
    pb, ps, pl, gb, gl = case
    num_lesions = sum(len(g) for g in gl)
    thresholds = sorted({float(s) for im in ps for s in im}, reverse=True)
    points = [(0.0, 0.0)]
    for t in thresholds:
        found = fp = 0
        for i in range(len(pb)):
            kept = [(box, label) for box, s, label in zip(pb[i], ps[i], pl[i])
                    if s >= t and label not in ignored[i]]
            for box, label in kept:
                if not any(label == g_label and _iou(box, g) >= iou_thr
                           for g, g_label in zip(gb[i], gl[i])):
                    fp += 1
            for g, g_label in zip(gb[i], gl[i]):
                if any(label == g_label and _iou(box, g) >= iou_thr
                       for box, label in kept):
                    found += 1
        points.append((fp / len(pb), found / num_lesions))
    out = []
    for r in rates:
        after = [k for k, (f, _) in enumerate(points) if f > r]
        if not after:
            out.append(points[-1][1])
            continue
        (f0, s0), (f1, s1) = points[after[0] - 1], points[after[0]]
        out.append(s0 + (s1 - s0) * (r - f0) / (f1 - f0))
    return out


@pytest.mark.parametrize('seed', range(6))
def test_matches_a_brute_force_recount(seed):
    rng = np.random.default_rng(seed)
    case = ([], [], [], [], [])
    ignored = []
    for _ in range(5):
        g = int(rng.integers(0, 4))
        xy = rng.uniform(0, 60, (g, 2))
        gt = np.c_[xy, xy + rng.uniform(5, 20, (g, 2))]
        k = int(rng.integers(0, 10))
        src = gt[rng.integers(0, g, k)] if g else np.zeros((k, 4))
        pred = src + rng.normal(0, 3, (k, 4))
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
        case[0].append(pred)
        case[1].append(np.round(rng.random(k), 1))  # ties on purpose
        case[2].append(rng.integers(0, 3, k))
        case[3].append(gt)
        case[4].append(rng.integers(0, 2, g))
        ignored.append([2] if rng.random() < 0.5 else [])
    if sum(len(g) for g in case[4]) == 0:
        pytest.skip('no lesion drawn')
    rates = FROC_FP_RATES + (0.3, 0.7, 1.5)
    out = froc_score(*case, fp_rates=rates, ignored_labels=ignored)
    expected = brute_force_froc(case, ignored, rates)
    np.testing.assert_allclose(out['sensitivities'], expected, atol=1e-12)


def test_an_inverted_predicted_box_is_a_miss_not_an_error():
    # (x2 < x1 and y2 < y1: a positive "area" if not clipped)
    hits = match_detections([[10, 10, 0, 0], [0, 0, 10, 10]], [0, 0],
                            [[0, 0, 10, 10]], [0])
    assert hits.tolist() == [[False], [True]]
    np.testing.assert_array_equal(
        box_iou([[10, 10, 0, 0]], [[0, 0, 10, 10]]), [[0.0]])


def test_sensitivity_at_interpolates_like_numpy_interp():
    fppi, sens = [0, 0.1, 0.5, 0.5, 2], [0, 0.2, 0.6, 0.7, 0.9]
    # .05: halfway to (.1, .2) -> .1; .5: last of the two points -> .7;
    # 1: a third of the way from (.5, .7) to (2, .9); 3: past the end
    np.testing.assert_allclose(
        sensitivity_at(fppi, sens, [0.05, 0.5, 1, 3]),
        [0.1, 0.7, 0.7 + 0.2 / 3, 0.9])
    with pytest.raises(ValueError, match='non-decreasing'):
        sensitivity_at([0, 1, 0.5], [0, 0.5, 0.6])


@pytest.mark.parametrize('kwargs, message', [
    (dict(pred_bboxes=[[[0, 0, 1]]]), r'shape \(K, 4\)'),
    (dict(gt_bboxes=[[[2, 0, 1, 1]]]), 'gt_bboxes need x2 >= x1'),
    (dict(pred_scores=[[0.1, 0.2]]), 'pred_scores must have 1 entries'),
    (dict(pred_scores=[[math.nan]]), 'pred_scores of image 0 must be'),
    (dict(gt_labels=[[]]), 'gt_labels must have 1 entries'),
    (dict(gt_bboxes=[[[0, 0, 1, 1]], []]), 'same images'),
    (dict(ignored_labels=[[], []]), 'same images'),
    (dict(ignored_labels=[[0]]), 'without a box'),
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
