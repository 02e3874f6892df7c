# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Weighted running counts over a ranked list of entries (detections
sorted by score), for many resamples at once.

AP and FROC are read off running counts along the ranked detections. In a
resample, an entry of image ``i`` counts ``weights[b, i]`` times (the
copies of a duplicated image sit next to each other in the ranking), so the
counts of all resamples are cumulative sums of gathered weights.
"""
from __future__ import annotations

import numpy as np

#: Most elements of one (resamples, entries) block held at once.
BLOCK_ELEMENTS = 1 << 22


def cumulative_weights(weights: np.ndarray, entry_image: np.ndarray,
                       at: np.ndarray) -> np.ndarray:
    """Weighted count of the entries up to and including positions ``at``.

    Args:
        weights: (B, N) multiplicity of each image in each resample.
        entry_image: (E,) image index of each ranked entry.
        at: (P,) positions in ``[0, E)``.

    Returns:
        (B, P) float64: ``sum(weights[b, entry_image[:at[p] + 1]])``.

    Example:
        >>> cumulative_weights(np.array([[1, 2], [0, 1]]),
        ...                    np.array([0, 1, 1]), np.array([0, 2])).tolist()
        [[1.0, 5.0], [0.0, 2.0]]
    """
    weights = np.asarray(weights)
    entry_image = np.asarray(entry_image, dtype=np.int64)
    at, repeat = np.unique(np.asarray(at, dtype=np.int64),
                           return_inverse=True)
    out = np.zeros((weights.shape[0], at.size), np.float64)
    if at.size == 0:
        return out
    # only the entries up to the last position matter: the sums of the runs
    # between positions, then their running total
    entry_image = entry_image[:at[-1] + 1]
    starts = np.r_[0, at[:-1] + 1]
    rows = max(1, BLOCK_ELEMENTS // max(entry_image.size, 1))
    for lo in range(0, weights.shape[0], rows):
        block = weights[lo:lo + rows][:, entry_image]
        runs = np.add.reduceat(block, starts, axis=1, dtype=np.float64)
        out[lo:lo + rows] = np.cumsum(runs, axis=1)
    return out[:, repeat.reshape(-1)]


def precision_envelope(precision: np.ndarray) -> np.ndarray:
    """Running maximum from the right along the last axis: the precision
    at each point made non-increasing, as VOC and COCO AP do."""
    return np.maximum.accumulate(precision[..., ::-1], axis=-1)[..., ::-1]
