# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.data_prep.split import iterative_stratification, split_by_group


def test_iterative_stratification_spreads_each_label():
    rng = np.random.default_rng(0)
    rates = np.array([0.4, 0.2, 0.1, 0.03, 0.01])
    labels = (rng.random((3000, 5)) < rates).astype(int)
    folds = iterative_stratification(labels, [0.8, 0.2], seed=1)
    assert set(folds.tolist()) == {0, 1}
    for c in range(labels.shape[1]):
        total = labels[:, c].sum()
        in_test = labels[folds == 1, c].sum()
        # within one sample of the ideal share
        assert abs(in_test - 0.2 * total) <= 1, (c, in_test, total)
    assert abs((folds == 1).sum() - 600) <= 2


def test_iterative_stratification_weighted_groups_and_errors():
    labels = np.array([[3, 0], [0, 2], [1, 1], [0, 0], [0, 0]])
    sizes = np.array([3, 2, 1, 4, 4])
    folds = iterative_stratification(labels, [0.5, 0.5], 0, sizes)
    assert folds.shape == (5, ) and set(folds) <= {0, 1}
    with pytest.raises(ValueError, match='sum to 1'):
        iterative_stratification(labels, [0.5, 0.6])
    with pytest.raises(ValueError, match='non-negative'):
        iterative_stratification(-labels, [0.5, 0.5])
    with pytest.raises(ValueError, match='sizes'):
        iterative_stratification(labels, [0.5, 0.5], sizes=sizes[:2])


def test_split_keeps_groups_together():
    rows = []
    rng = np.random.default_rng(0)
    for patient in range(60):
        for k in range(int(rng.integers(1, 5))):
            flags = (rng.random(6) < 0.3).astype(int)
            rows.append((f'p{patient}_{k}', f'nih:{patient}', 'nih', *flags))
    images = pd.DataFrame(
        rows, columns=['image_id', 'group', 'source', *CXR_CLASSES])
    split = split_by_group(images, CXR_CLASSES, 0.25, seed=0,
                           val_fraction=0.15)
    per_group = pd.Series(split.to_numpy()).groupby(
        images['group'].to_numpy()).nunique()
    assert (per_group == 1).all()
    assert set(split) == {'train', 'val', 'test'}
    shares = split.value_counts(normalize=True)
    assert abs(shares['test'] - 0.25) < 0.05
    assert abs(shares['val'] - 0.15) < 0.05
    with pytest.raises(ValueError, match='test fraction'):
        split_by_group(images, CXR_CLASSES, 1.0)
    with pytest.raises(ValueError, match='must be < 1'):
        split_by_group(images, CXR_CLASSES, 0.5, val_fraction=0.5)
    assert set(split_by_group(images, CXR_CLASSES, 0.0)) == {'train'}
    # a split of fraction 0 gets nothing
    assert set(split_by_group(images, CXR_CLASSES, 0.3)) == {'train', 'test'}


def test_real_split_no_image_or_patient_leak(real_prepared, real_tables):
    """The replaced system split box rows, so images leaked between splits."""
    images, boxes = real_prepared.images, real_prepared.boxes
    assert images['image_id'].is_unique
    split_of = dict(zip(images['image_id'], images['split']))
    # every box lies in the split of its image, each image in one split
    box_splits = boxes.groupby('image_id')['image_id'].first().map(split_of)
    assert box_splits.notna().all()
    # no NIH patient in both splits (Data_Entry patient ids)
    nih = images[images['source'] == 'nih']
    patients = nih['file_name'].map(real_tables['patients'])
    assert patients.notna().all()
    assert (nih.groupby(patients)['split'].nunique() == 1).all()
    assert nih['group'].nunique() < len(nih)  # some patients have >1 image
    # both sources in every split, in proportion (positive images; the
    # negatives of train are capped)
    positive = images[list(CXR_CLASSES)].sum(axis=1) > 0
    for source in ('nih', 'vinbig'):
        part = images[(images['source'] == source) & positive]
        for split, want in (('test', 0.2), ('val', 0.1)):
            share = (part['split'] == split).mean()
            assert abs(share - want) < 0.03, (source, split, share)


def test_real_split_stratified_per_class(real_prepared):
    images = real_prepared.images
    for c in CXR_CLASSES:
        has = images[c] == 1
        for split, want in (('test', 0.2), ('val', 0.1)):
            share = (images.loc[has, 'split'] == split).mean()
            assert abs(share - want) < 0.01, (c, split, share)
