# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""FROC of resamples against froc_score on copied images."""
from __future__ import annotations

import numpy as np

from cxr_mmdet.evaluation.functional import (froc_entries, froc_resampled,
                                             froc_score)
from .resampling_cases import copies, detection_images, froc_inputs


def test_a_resample_is_froc_score_of_its_copied_images():
    images = detection_images()
    entries = froc_entries(*froc_inputs(images))
    ones = froc_resampled(entries, np.ones((1, len(images))))
    np.testing.assert_allclose(
        ones[0], froc_score(*froc_inputs(images))['sensitivities'])
    for seed in range(3):
        repeats = np.random.default_rng(seed).integers(0, 3, len(images))
        np.testing.assert_allclose(
            froc_resampled(entries, repeats[None])[0],
            froc_score(*froc_inputs(copies(images, repeats)))
            ['sensitivities'])


def test_ties_and_a_resample_without_lesions():
    # two images, tied scores across them; image 1 has no lesion
    entries = froc_entries([[[0, 0, 4, 4]], [[0, 0, 4, 4]]], [[0.5], [0.5]],
                           [[0], [0]], [[[0, 0, 4, 4]], np.zeros((0, 4))],
                           [[0], []])
    sens = froc_resampled(entries, np.array([[1, 1], [0, 3], [2, 0]]),
                          fp_rates=[0.5, 1])
    expected = froc_score(
        [[[0, 0, 4, 4]], [[0, 0, 4, 4]]], [[0.5], [0.5]], [[0], [0]],
        [[[0, 0, 4, 4]], np.zeros((0, 4))], [[0], []],
        fp_rates=[0.5, 1])['sensitivities']
    np.testing.assert_allclose(sens[0], expected)
    assert np.isnan(sens[1]).all()
    np.testing.assert_allclose(sens[2], [1, 1])


def test_low_rates_read_a_prefix_of_the_ranking_only():
    # rates up to 0.5 FP per image: the counts stop early in the ranking
    images = detection_images(60, seed=1)
    entries = froc_entries(*froc_inputs(images))
    assert entries['fp_scores'].size > 1024
    rates = [0.125, 0.25, 0.5]
    for seed in range(2):
        repeats = np.random.default_rng(seed).integers(0, 3, len(images))
        np.testing.assert_allclose(
            froc_resampled(entries, repeats[None], rates)[0],
            froc_score(*froc_inputs(copies(images, repeats)),
                       fp_rates=rates)['sensitivities'])
