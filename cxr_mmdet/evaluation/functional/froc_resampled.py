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
from .ranked_counts import BLOCK_ELEMENTS


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
    # the ranking of froc.py's _curve: one operating point per run of tied
    # scores (``run``: the point each entry closes into)
    order = np.argsort(-scores, kind='mergesort')
    scores, images, is_tp = scores[order], images[order], is_tp[order]
    run = np.r_[0, np.cumsum(np.diff(scores) != 0)]
    tp_run, fp_run = run[is_tp], run[~is_tp]
    tp_images, fp_images = images[is_tp], images[~is_tp]
    # first FP entry of each run (runs without one never cross a rate)
    first_fp = np.searchsorted(fp_run, fp_run, side='left')
    for lo, fp_cum in _fp_counts(weights, fp_images, fp_run,
                                 rates.max() * num_images):
        block = weights[lo:lo + fp_cum.shape[0]]
        tp_cum = np.cumsum(block[:, tp_images], axis=1, dtype=np.int64)
        for k in np.flatnonzero(ok[lo:lo + fp_cum.shape[0]]):
            b = lo + k
            # the FP count each rate allows, and the first FP entry over it
            allowed = rates * num_images[b]
            cross = np.searchsorted(fp_cum[k], np.floor(allowed).astype(
                np.int64), side='right')
            found_all = tp_cum[k, -1] if tp_cum.shape[1] else 0
            sens = np.full(rates.size, float(found_all))
            inside = cross < fp_cum.shape[1]
            if inside.any():
                e = cross[inside]
                point = fp_run[e]
                before = first_fp[e] - 1
                fps_prev = np.where(before >= 0,
                                    fp_cum[k, np.maximum(before, 0)], 0)
                # the last FP entry of the crossing run
                last_fp = np.searchsorted(fp_run, point, side='right') - 1
                fps_next = fp_cum[k, last_fp]
                tps_prev = _tp_count(tp_cum[k], tp_run, point, 'left')
                tps_next = _tp_count(tp_cum[k], tp_run, point, 'right')
                # linear between the two operating points, as np.interp
                sens[inside] = tps_prev + (allowed[inside] - fps_prev) * (
                    tps_next - tps_prev) / (fps_next - fps_prev)
            out[b] = sens / num_lesions[b]
    return out


def _fp_counts(weights: np.ndarray, fp_images: np.ndarray,
               fp_run: np.ndarray, most: np.ndarray):
    """Blocks of resamples with their running FP counts along the ranking,
    ``(first row, (rows, P) int64)``: only the first P FP entries (whole
    runs), enough for every row to pass ``most`` (its largest allowed
    count) unless P covers all entries."""
    num = fp_images.size
    length = min(num, max(1024, int(4 * most.max()) + 1))
    lo = 0
    while lo < weights.shape[0]:
        if length < num:  # end on a whole run of tied scores
            length = int(np.searchsorted(fp_run, fp_run[length - 1],
                                         side='right'))
        rows = max(1, BLOCK_ELEMENTS // max(length, 1))
        block = weights[lo:lo + rows]
        fp_cum = np.cumsum(block[:, fp_images[:length]], axis=1,
                           dtype=np.int64)
        if length < num and not (fp_cum[:, -1] > most[lo:lo + rows]).all():
            length = min(num, 2 * length)
            continue
        yield lo, fp_cum
        lo += block.shape[0]


def _tp_count(tp_cum: np.ndarray, tp_run: np.ndarray, point: np.ndarray,
              side: str) -> np.ndarray:
    """Weighted hits in the runs before (``'left'``) or up to
    (``'right'``) each run of ``point``."""
    count = np.searchsorted(tp_run, point, side=side)
    return np.where(count > 0, tp_cum[np.maximum(count - 1, 0)]
                    if tp_cum.size else 0, 0)
