# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Resampling images in groups with replacement, and percentile intervals.

A bootstrap resample draws as many groups as there are, uniformly with
replacement (an NIH patient is one group, a VinBig image another); every
image of a drawn group enters the resample once per draw. A resample is
held as a weight matrix: ``weights[b, i]`` is how many times image ``i``
is in resample ``b``, and each figure is recomputed with those
multiplicities (see the ``*_resampled`` functions of this package).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Seed of the resamples unless a caller sets one.
BOOTSTRAP_SEED = 0


def group_resample_weights(groups: Sequence,
                           n_boot: int,
                           seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """Multiplicity of every image in ``n_boot`` group resamples.

    Args:
        groups: (N,) group of each image (any hashable values).
        n_boot: Resamples B.
        seed: Seed of ``numpy.random.default_rng``.

    Returns:
        (B, N) int32: ``weights[b, i]``, the draws of image ``i``'s group in
        resample ``b``; each row draws G groups (G distinct values in
        ``groups``), so the images of one group always share a weight.

    Example:
        >>> w = group_resample_weights(['p1', 'p1', 'p2'], 4, seed=1)
        >>> w.shape, bool((w[:, 0] == w[:, 1]).all())
        ((4, 3), True)
        >>> (w[:, 0] + w[:, 2]).tolist()
        [2, 2, 2, 2]
    """
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f'n_boot must be a positive int, got {n_boot!r}')
    if len(groups) == 0:
        raise ValueError('group_resample_weights needs at least one image, '
                         'got 0')
    _, index = np.unique(np.asarray(groups, dtype=object).astype(str),
                         return_inverse=True)
    num_groups = int(index.max()) + 1
    rng = np.random.default_rng(seed)
    # G draws with replacement from G groups: multinomial counts per group
    counts = rng.multinomial(num_groups, np.full(num_groups, 1 / num_groups),
                             size=int(n_boot))
    return counts[:, index].astype(np.int32)


def percentile_interval(values, level: float = 0.95) -> dict:
    """Percentile interval of resampled figures.

    Args:
        values: (B,) a figure in each resample; ``nan`` where it is
            undefined there (those resamples are left out).
        level: Coverage, in (0, 1).

    Returns:
        dict: ``low`` and ``high`` (the ``(1 - level) / 2`` and
        ``(1 + level) / 2`` quantiles, numpy's linear interpolation; ``nan``
        when no resample defines the figure), ``n_boot`` (the resamples
        that define it) and ``level``.

    Example:
        >>> percentile_interval(np.arange(101.0), 0.5)
        {'low': 25.0, 'high': 75.0, 'n_boot': 101, 'level': 0.5}
    """
    if not 0 < level < 1:
        raise ValueError(f'level must lie in (0, 1), got {level!r}')
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        low = high = float('nan')
    else:
        low, high = (float(v) for v in np.quantile(
            finite, [(1 - level) / 2, (1 + level) / 2]))
    return dict(low=low, high=high, n_boot=int(finite.size),
                level=float(level))
