# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Leak-free multi-label stratified train/val/test split.

Images are split by *group*: an NIH patient (all of a patient's images go
to one split) or a VinBig image. Groups are assigned with iterative
stratification (Sechidis, Tsoumakas and Vlahavas, "On the Stratification
of Multi-Label Data", ECML PKDD 2011), extended to weighted samples: a
group's label vector counts its images per class, and its size is its
number of images. The source (NIH or VinBig) is stratified as two extra
labels, so both sources appear in every split in proportion.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The splits prep assigns, in order.
SPLITS: tuple[str, ...] = ('train', 'val', 'test')
#: The image sets it writes: the splits and ``trainval`` (train + val, for
#: VOC tools).
IMAGE_SET_NAMES: tuple[str, ...] = (*SPLITS, 'trainval')


def iterative_stratification(labels: np.ndarray,
                             fractions: Sequence[float],
                             seed: int = 0,
                             sizes: np.ndarray | None = None) -> np.ndarray:
    """Assign samples to folds so each label is spread by ``fractions``.

    Repeatedly takes the label with the fewest unassigned samples and deals
    those samples (in random order) to the fold that most lacks that label,
    breaking ties by the fold that most lacks samples, then at random.
    Samples without labels fill the folds that most lack samples.

    Args:
        labels (np.ndarray): ``(N, L)`` non-negative counts (or 0/1).
        fractions: ``(K,)`` desired fold fractions, summing to 1.
        seed (int): Seed of the random order and tie breaks.
        sizes (np.ndarray, optional): ``(N,)`` sample weights (images per
            group); 1 each by default.

    Returns:
        np.ndarray: ``(N,)`` fold index per sample.

    Example:
        >>> y = np.eye(2, dtype=int).repeat(5, axis=0)
        >>> folds = iterative_stratification(y, [0.6, 0.4], seed=0)
        >>> np.bincount(folds[:5]).tolist(), np.bincount(folds[5:]).tolist()
        ([3, 2], [3, 2])
    """
    labels = np.asarray(labels, dtype=float)
    if labels.ndim != 2 or (labels < 0).any():
        raise ValueError(f'labels must be a 2-D non-negative array, got '
                         f'shape {labels.shape!r}')
    fractions = np.asarray(fractions, dtype=float)
    if (fractions < 0).any() or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f'fractions must be >= 0 and sum to 1, got '
                         f'{fractions.tolist()!r}')
    n = len(labels)
    sizes = np.ones(n) if sizes is None else np.asarray(sizes, float)
    if sizes.shape != (n, ):
        raise ValueError(f'sizes must have shape ({n},), got {sizes.shape!r}')
    rng = np.random.default_rng(seed)
    want_label = fractions[:, None] * labels.sum(axis=0)[None, :]
    want_size = fractions * sizes.sum()
    folds = np.full(n, -1, dtype=int)
    has = labels > 0

    def pick(candidates: np.ndarray) -> int:
        if len(candidates) > 1:
            best = want_size[candidates]
            candidates = candidates[best == best.max()]
        return int(rng.choice(candidates)) if len(candidates) > 1 else int(
            candidates[0])

    while True:
        open_ = folds < 0
        remaining = has[open_].sum(axis=0)
        if not remaining.any():
            break
        active = np.flatnonzero(remaining)
        label = active[np.argmin(remaining[active])]
        for i in rng.permutation(np.flatnonzero(open_ & has[:, label])):
            need = want_label[:, label]
            fold = pick(np.flatnonzero(need == need.max()))
            folds[i] = fold
            want_label[fold] -= labels[i]
            want_size[fold] -= sizes[i]
    for i in rng.permutation(np.flatnonzero(folds < 0)):
        fold = pick(np.flatnonzero(want_size == want_size.max()))
        folds[i] = fold
        want_size[fold] -= sizes[i]
    return folds


def split_fractions(test_fraction: float,
                    val_fraction: float = 0.0) -> dict[str, float]:
    """``split -> fraction`` of :data:`SPLITS` (train takes the rest)."""
    for name, value in (('test', test_fraction), ('val', val_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f'{name} fraction must be in [0, 1), got '
                             f'{value!r}')
    if test_fraction + val_fraction >= 1.0:
        raise ValueError(f'test fraction {test_fraction!r} + val fraction '
                         f'{val_fraction!r} must be < 1')
    return {
        'train': 1.0 - test_fraction - val_fraction,
        'val': val_fraction,
        'test': test_fraction
    }


def split_by_group(images: pd.DataFrame,
                   class_columns: Sequence[str],
                   test_fraction: float,
                   seed: int = 0,
                   val_fraction: float = 0.0) -> pd.Series:
    """Split images into ``train``, ``val`` and ``test`` by group.

    Args:
        images (pd.DataFrame): One row per image with ``group``, ``source``
            and 0/1 ``class_columns``.
        class_columns: The label columns to stratify.
        test_fraction (float): Fraction of images for ``test``, in [0, 1).
        seed (int): Random seed.
        val_fraction (float): Fraction of images for ``val``, in [0, 1);
            test + val < 1. A split of fraction 0 gets no image.

    Returns:
        pd.Series: ``'train'``, ``'val'`` or ``'test'`` per image (same
        index).
    """
    fractions = split_fractions(test_fraction, val_fraction)
    used = [name for name in SPLITS if fractions[name] > 0]
    if images.empty or used == ['train']:
        return pd.Series('train', index=images.index, dtype=object)
    onehot = pd.get_dummies(images['source'], dtype=int)
    per_image = pd.concat(
        [images[list(class_columns)].astype(int), onehot], axis=1)
    per_group = per_image.groupby(images['group'].to_numpy(), sort=True)
    group_labels = per_group.sum()
    group_sizes = per_group.size().to_numpy()
    folds = iterative_stratification(
        group_labels.to_numpy(), [fractions[name] for name in used],
        seed=seed,
        sizes=group_sizes)
    fold_of_group = dict(zip(group_labels.index, folds))
    names = np.asarray(used, dtype=object)
    return pd.Series(
        names[images['group'].map(fold_of_group).to_numpy(int)],
        index=images.index)
