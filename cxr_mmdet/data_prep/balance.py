# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Cap frequent classes by sampling images, keeping rare classes whole."""
from __future__ import annotations

import numpy as np


def balance_images(labels: np.ndarray,
                   max_images_per_class: int | None,
                   seed: int = 0) -> np.ndarray:
    """Choose images so no class exceeds a cap unless a rarer one needs it.

    Classes are visited from the rarest (fewest images) to the most
    frequent. At class ``c``, the images still undecided that show ``c``
    (those whose rarest class is ``c``) are sampled at random so that the
    kept images showing ``c`` reach ``max_images_per_class``; the others are
    dropped. A class under the cap is thus kept whole, and a frequent class
    can exceed the cap only through images kept for a rarer class.

    Args:
        labels (np.ndarray): ``(N, C)`` 0/1 image labels.
        max_images_per_class (int, optional): The cap; ``None`` keeps all.
        seed (int): Random seed; the same seed gives the same choice.

    Returns:
        np.ndarray: ``(N,)`` boolean mask of kept images. Images without
        labels are always kept (negatives are capped elsewhere).

    Example:
        >>> y = np.array([[1, 0]] * 5 + [[0, 1]] * 2 + [[1, 1]])
        >>> keep = balance_images(y, 3, seed=0)
        >>> y[keep].sum(axis=0).tolist()
        [3, 3]
    """
    labels = np.asarray(labels).astype(bool)
    if labels.ndim != 2:
        raise ValueError(f'labels must be 2-D, got shape {labels.shape!r}')
    keep = np.ones(len(labels), dtype=bool)
    if max_images_per_class is None:
        return keep
    if max_images_per_class < 0:
        raise ValueError(f'max images per class must be >= 0, got '
                         f'{max_images_per_class!r}')
    rng = np.random.default_rng(seed)
    positive = labels.any(axis=1)
    decided = ~positive
    counts = labels.sum(axis=0)
    for c in np.lexsort((np.arange(labels.shape[1]), counts)):
        members = labels[:, c]
        have = int((members & decided & keep).sum())
        candidates = np.flatnonzero(members & ~decided)
        room = max(max_images_per_class - have, 0)
        chosen = rng.permutation(candidates)[:room]
        keep[candidates] = False
        keep[chosen] = True
        decided[candidates] = True
    return keep
