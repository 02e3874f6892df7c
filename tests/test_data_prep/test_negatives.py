# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.data_prep.negatives import select_negatives, split_no_finding

from .conftest import read_csv_rows


def test_real_negatives_are_all_no_finding_images(real_tables, vinbig_table,
                                                  real_prepared):
    rows = read_csv_rows(vinbig_table)
    i_id, i_label = rows[0].index('image_id'), rows[0].index('class_name')
    labels = defaultdict(set)
    for r in rows[1:]:
        if r:
            labels[r[i_id]].add(r[i_label])
    expected = {i for i, s in labels.items() if s == {'No finding'}}
    assert len(expected) == 10606
    boxes, negatives, disagreeing = split_no_finding(
        real_tables['tables']['vinbig'])
    assert set(negatives['image_id']) == expected
    assert disagreeing == 0
    assert (boxes['label'] != 'No finding').all()
    # kept with all-zero labels: val and test all of theirs (20% and 10%
    # of them), train as many as make 10% of its images (the sampler's
    # neg_fraction)
    images = real_prepared.images
    neg = images[images[list(CXR_CLASSES)].sum(axis=1) == 0]
    assert set(neg['image_id']) <= expected
    counts = neg['split'].value_counts()
    assert counts['test'] == round(0.2 * 10606)
    assert counts['val'] == round(0.1 * 10606)
    train = images[images['split'] == 'train']
    train_pos = int((train[list(CXR_CLASSES)].sum(axis=1) > 0).sum())
    assert counts['train'] == round(0.1 / 0.9 * train_pos)
    assert abs(counts['train'] / len(train) - 0.1) < 0.001


def _negatives(n, groups=None):
    ids = [f'n{i:03d}' for i in range(n)]
    return pd.DataFrame({
        'image_id': ids,
        'file_name': ids,
        'source': 'vinbig',
        'group': groups or [f'vinbig:{i}' for i in ids]
    })


def test_cap_per_split_and_determinism():
    negatives = _negatives(100)
    kept = select_negatives(negatives, 0.2, per_split=10, seed=0)
    assert kept['split'].value_counts().to_dict() == {
        'train': 10,
        'test': 10
    }
    again = select_negatives(negatives, 0.2, per_split=10, seed=0)
    pd.testing.assert_frame_equal(kept, again)
    other = select_negatives(negatives, 0.2, per_split=10, seed=1)
    assert set(other['image_id']) != set(kept['image_id'])
    all_kept = select_negatives(negatives, 0.2)
    assert all_kept['split'].value_counts().to_dict() == {
        'train': 80,
        'test': 20
    }
    three = select_negatives(
        negatives, {'train': 0.7, 'val': 0.1, 'test': 0.2},
        caps={'train': 5}, seed=0)
    assert three['split'].value_counts().to_dict() == {
        'train': 5, 'val': 10, 'test': 20}


def test_negative_follows_its_patients_split():
    negatives = _negatives(6, groups=['nih:1'] * 3 + ['nih:2'] * 3)
    kept = select_negatives(
        negatives, 0.5, group_splits={'nih:1': 'test'}, seed=0)
    assert (kept.loc[kept['group'] == 'nih:1', 'split'] == 'test').all()
    assert kept.groupby('group')['split'].nunique().eq(1).all()
