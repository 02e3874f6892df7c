# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""COCO AP of resamples against pycocotools run on the copied images."""
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.evaluation.functional import coco_ap_resampled, coco_matches
from .resampling_cases import (coco_class_ap, coco_eval_of, copies,
                               detection_images)


@pytest.mark.parametrize('crowd_every', [0, 5])
def test_weights_of_one_give_accumulates_ap(crowd_every):
    coco_eval = coco_eval_of(detection_images(), crowd_every)
    ap = coco_ap_resampled(coco_matches(coco_eval), np.ones((1, 40)))
    np.testing.assert_allclose(ap[0], coco_class_ap(coco_eval), atol=1e-12)


@pytest.mark.parametrize('crowd_every', [0, 5])
def test_a_resample_is_the_ap_of_its_copied_images(crowd_every):
    images = detection_images()
    matches = coco_matches(coco_eval_of(images, crowd_every))
    for seed in range(3):
        repeats = np.random.default_rng(seed).integers(0, 3, len(images))
        reference = coco_class_ap(
            coco_eval_of(copies(images, repeats), crowd_every))
        ap = coco_ap_resampled(matches, repeats[None])
        np.testing.assert_allclose(ap[0], reference, atol=1e-12)


def test_a_class_without_positives_in_the_resample_is_nan():
    images = detection_images()
    matches = coco_matches(coco_eval_of(images))
    negative = next(i for i, image in enumerate(images)
                    if image['gt_labels'].size == 0)
    weights = np.zeros((1, len(images)))
    weights[0, negative] = 2
    assert np.isnan(coco_ap_resampled(matches, weights)).all()


def test_weights_must_have_one_column_per_image():
    matches = coco_matches(coco_eval_of(detection_images()))
    with pytest.raises(ValueError, match='40 columns'):
        coco_ap_resampled(matches, np.ones((2, 39)))
