# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""VOC AP@0.4 of resamples against mmdet's eval_map on copied images."""
from __future__ import annotations

import numpy as np
import pytest
from mmdet.evaluation.functional import eval_map

from cxr_mmdet.evaluation.functional import voc_ap_resampled, voc_matches
from .resampling_cases import copies, detection_images, voc_inputs


def _eval_map_aps(images, ignore_every):
    _, results = eval_map(
        *voc_inputs(images, ignore_every=ignore_every)[::-1],
        iou_thr=0.4,
        logger='silent',
        nproc=1,
        use_legacy_coordinate=False)
    return np.array([r['ap'] if r['num_gts'] else np.nan for r in results])


@pytest.mark.parametrize('ignore_every', [0, 4])
def test_a_resample_is_eval_maps_ap_of_its_copied_images(ignore_every):
    images = detection_images()
    matches = voc_matches(*voc_inputs(images, ignore_every=ignore_every),
                          iou_thr=0.4)
    ones = voc_ap_resampled(matches, np.ones((1, len(images))))
    np.testing.assert_allclose(
        ones[0], _eval_map_aps(images, ignore_every), atol=1e-6)
    for seed in range(2):
        repeats = np.random.default_rng(seed).integers(0, 3, len(images))
        np.testing.assert_allclose(
            voc_ap_resampled(matches, repeats[None])[0],
            _eval_map_aps(copies(images, repeats), ignore_every), atol=1e-6)


def test_annotations_and_detections_must_list_the_same_images():
    annotations, dets = voc_inputs(detection_images(4))
    with pytest.raises(ValueError, match='same images'):
        voc_matches(annotations, dets[:3])
