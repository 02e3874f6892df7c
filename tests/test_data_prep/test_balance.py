# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import numpy as np
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.data_prep.balance import balance_images


def _random_labels(seed=0, n=2000):
    rng = np.random.default_rng(seed)
    rates = np.array([0.5, 0.3, 0.2, 0.05, 0.02, 0.01])
    return (rng.random((n, 6)) < rates).astype(int)


def test_cap_respected_rare_classes_whole():
    labels = _random_labels()
    cap = 150
    keep = balance_images(labels, cap, seed=0)
    before = labels.sum(axis=0)
    after = labels[keep].sum(axis=0)
    rare = before <= cap
    np.testing.assert_array_equal(after[rare], before[rare])
    # a frequent class exceeds the cap only through images of rarer classes
    for c in np.flatnonzero(~rare):
        rarer = np.argsort(before, kind='stable')
        rarer = rarer[:list(rarer).index(c)]
        own = keep & labels[:, c].astype(bool) & ~labels[:, rarer].any(1)
        through_rarer = after[c] - own.sum()
        assert own.sum() == max(cap - through_rarer, 0)
    # negatives are untouched
    assert keep[labels.sum(axis=1) == 0].all()


def test_deterministic_per_seed():
    labels = _random_labels()
    a = balance_images(labels, 100, seed=3)
    b = balance_images(labels, 100, seed=3)
    c = balance_images(labels, 100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_no_cap_keeps_all_and_errors():
    labels = _random_labels(n=50)
    assert balance_images(labels, None).all()
    with pytest.raises(ValueError, match='-1'):
        balance_images(labels, -1)
    with pytest.raises(ValueError, match='2-D'):
        balance_images(labels[:, 0], 3)


def test_real_tables_balanced_in_train_only(real_tables, real_sizes,
                                            real_prepared):
    """The cap thins train after the split; val and test are the uncapped
    run's, image for image."""
    from cxr_mmdet.data_prep import prepare_tables
    prepared = prepare_tables(
        real_tables['tables'],
        real_sizes,
        nih_findings=real_tables['findings'],
        max_images_per_class=700)
    balance = prepared.report['balance']
    before = balance['per_class_images_before']
    after = balance['per_class_images_after']
    images = prepared.images
    train = images[(images['split'] == 'train')
                   & (images[list(CXR_CLASSES)].sum(1) > 0)]
    assert {c: int(train[c].sum()) for c in CXR_CLASSES} == after
    assert balance['images_after'] == len(train)
    plain = real_prepared.images
    plain_train = plain[(plain['split'] == 'train')
                        & (plain[list(CXR_CLASSES)].sum(1) > 0)]
    assert before == {c: int(plain_train[c].sum()) for c in CXR_CLASSES}
    rarest = min(before, key=before.get)
    assert after[rarest] == before[rarest] < 700
    assert max(after.values()) < max(before.values())
    assert max(after.values()) / min(after.values()) < max(
        before.values()) / min(before.values())
    for split in ('val', 'test'):
        assert sorted(images.loc[images['split'] == split, 'image_id']) == \
            sorted(plain.loc[plain['split'] == split, 'image_id'])
