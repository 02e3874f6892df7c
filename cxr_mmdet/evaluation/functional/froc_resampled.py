# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""FROC of image resamples from one set of per-image hits.

:func:`~cxr_mmdet.evaluation.functional.froc.froc_entries` finds, once,
which lesions the detections hit and which detections are false positives,
with the image of each; a resample counts each entry, each lesion and each
image as often as it holds the image, and reads the curve as
:func:`~cxr_mmdet.evaluation.functional.froc.froc_score` does. With every
weight 1 it gives ``froc_score``'s sensitivities.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .froc import FROC_FP_RATES
from .ranked_counts import cumulative_weights


def froc_resampled(entries: dict,
                   weights: np.ndarray,
                   fp_rates: Sequence[float] = FROC_FP_RATES) -> np.ndarray:
    """Sensitivity at ``fp_rates`` FPs per image in each resample.

    Args:
        entries: ``froc_entries``' output (with ``lesion_images`` and
            ``fp_images``).
        weights: (B, N) multiplicity of each image.
        fp_rates: (R,) FPs per image to read at.

    Returns:
        (B, R) sensitivity; ``nan`` in a resample without a lesion. FROC is
        the mean over R.
    """
    weights = np.atleast_2d(np.asarray(weights))
    rates = np.asarray(fp_rates, np.float64)
    out = np.full((weights.shape[0], rates.size), np.nan)
    found = np.isfinite(entries['lesion_scores'])
    scores = np.r_[entries['lesion_scores'][found], entries['fp_scores']]
    images = np.r_[entries['lesion_images'][found], entries['fp_images']]
    is_tp = np.r_[np.ones(int(found.sum()), bool),
                  np.zeros(entries['fp_scores'].size, bool)]
    lesions = np.bincount(entries['lesion_images'],
                          minlength=weights.shape[1]).astype(np.float64)
    num_lesions = weights @ lesions
    num_images = weights.sum(axis=1).astype(np.float64)
    ok = num_lesions > 0
    if not ok.any():
        return out
    if scores.size == 0:
        out[ok] = 0.0
        return out
    # the ranking and operating points of froc.py's _curve
    order = np.argsort(-scores, kind='mergesort')
    scores, images, is_tp = scores[order], images[order], is_tp[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    seen = cumulative_weights(weights, images, last)
    tp_at = np.cumsum(is_tp)[last] - 1
    tp_images = images[is_tp]
    hits = cumulative_weights(weights, tp_images, np.maximum(tp_at, 0))
    hits[:, tp_at < 0] = 0.0
    fps = seen - hits
    for b in np.flatnonzero(ok):
        out[b] = np.interp(rates, np.r_[0.0, fps[b] / num_images[b]],
                           np.r_[0.0, hits[b] / num_lesions[b]])
    return out
