# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Find negative images and choose how many of them each split keeps.

A negative is an image whose readers *all* wrote ``No finding``: it has no
boxes and an all-zero label vector, and gives the image-level ROC its true
negatives. Images with findings outside the six classes are not negatives
(they were not called normal) and are dropped as ``no_mapped_box``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxr_mmdet.classes import VINBIG_NO_FINDING
from .split import SPLITS, split_fractions

IMAGE_COLUMNS: tuple[str, ...] = ('image_id', 'file_name', 'source', 'group')


def split_no_finding(
        boxes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Separate ``No finding`` verdicts from box rows.

    Returns:
        tuple: ``(box_rows, negatives, disagreeing)``: rows with a finding,
        one row per negative image (columns :data:`IMAGE_COLUMNS`), and
        the number of ``No finding`` rows on images where another reader
        found something (the image then counts as positive).
    """
    is_nf = boxes['label'] == VINBIG_NO_FINDING
    if not is_nf.any():
        empty = pd.DataFrame(columns=list(IMAGE_COLUMNS))
        return boxes, empty, 0
    with_finding = set(boxes.loc[~is_nf, 'image_id'])
    on_positive = is_nf & boxes['image_id'].isin(with_finding)
    negatives = boxes.loc[is_nf & ~on_positive, list(IMAGE_COLUMNS)]
    negatives = negatives.drop_duplicates('image_id').sort_values('image_id')
    return (boxes[~is_nf].reset_index(drop=True),
            negatives.reset_index(drop=True), int(on_positive.sum()))


def select_negatives(
        negatives: pd.DataFrame,
        fractions: Mapping[str, float] | float,
        per_split: int | None = None,
        seed: int = 0,
        group_splits: Mapping[str, str] | None = None,
        caps: Mapping[str, int | None] | None = None) -> pd.DataFrame:
    """Split negatives by group at random and cap each split.

    A negative whose group already has a split (an NIH patient with
    positive images, say) follows it, so no group straddles the splits.
    The other groups are shuffled and dealt to the splits by ``fractions``
    (``round(f * n)`` groups each for ``val`` and ``test``, the rest to
    ``train``; a VinBig negative is its own group). Then each split keeps
    at most ``caps[split]`` (and at most ``per_split``) negatives, chosen
    at random.

    Args:
        negatives (pd.DataFrame): One row per negative image, with
            ``image_id`` and ``group``.
        fractions: ``split -> fraction`` (see
            :func:`~cxr_mmdet.data_prep.split.split_fractions`), or the
            test fraction alone (no val split).
        per_split (int, optional): Cap of every split; None keeps all.
        seed (int): Random seed; the same seed gives the same choice.
        group_splits: ``group -> split`` already fixed by the positives.
        caps: ``split -> cap`` of single splits (None: no cap).

    Returns:
        pd.DataFrame: The kept negatives with a ``split`` column, sorted by
        image id.
    """
    if not isinstance(fractions, Mapping):
        fractions = split_fractions(float(fractions))
    if per_split is not None and per_split < 0:
        raise ValueError(f'negatives per split must be >= 0, got '
                         f'{per_split!r}')
    group_splits = group_splits or {}
    rng = np.random.default_rng(seed)
    frame = negatives.sort_values('image_id').reset_index(drop=True)
    fixed = frame['group'].map(group_splits)
    free = sorted(set(frame.loc[fixed.isna(), 'group']))
    order = rng.permutation(len(free))
    split_of, start = {}, 0
    for name in ('test', 'val'):
        count = int(round(fractions.get(name, 0.0) * len(free)))
        split_of.update({free[i]: name for i in order[start:start + count]})
        start += count
    split_of.update({free[i]: 'train' for i in order[start:]})
    split = fixed.fillna(frame['group'].map(split_of)).to_numpy(dtype=object)
    frame = frame.assign(split=split)
    limits = {name: per_split for name in SPLITS}
    for name, cap in (caps or {}).items():
        if cap is not None:
            limits[name] = cap if limits[name] is None else min(
                cap, limits[name])
    ranks = np.empty(len(frame), dtype=int)
    for name in SPLITS:
        members = np.flatnonzero(split == name)
        ranks[members] = rng.permutation(len(members))
    keep = np.ones(len(frame), dtype=bool)
    for name, cap in limits.items():
        if cap is not None:
            keep &= ~((split == name) & (ranks >= cap))
    frame = frame[keep]
    return frame.sort_values('image_id').reset_index(drop=True)


def train_negatives_for(positives: int, fraction: float) -> int:
    """Negatives that make ``fraction`` of a split of ``positives``.

    ``round(fraction / (1 - fraction) * positives)``: with the sampler's
    ``neg_fraction`` equal to ``fraction``, an epoch of ``len(dataset)``
    draws then draws about as many negatives as there are.

    >>> train_negatives_for(90, 0.1)
    10
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f'negative fraction must be in [0, 1), got '
                         f'{fraction!r}')
    return int(round(fraction / (1.0 - fraction) * positives))
