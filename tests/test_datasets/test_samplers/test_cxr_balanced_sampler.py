# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import json

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.datasets.samplers.cxr_balanced_sampler import (
    CXRBalancedSampler, image_labels_from_dataset, image_sampling_weights)
from cxr_mmdet.datasets.samplers.sampler_balance import (
    max_min_ratio, sampled_class_frequencies, sampler_balance_report)

# 3 images of class 0 only, 1 of classes 0+1, 1 of class 2, 3 negatives.
SMALL = np.array([[1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0],
                  [1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0],
                  [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])


def test_weights_use_the_rarest_label_and_neg_share():
    probs = image_sampling_weights(SMALL, neg_fraction=0.25)
    assert probs.sum() == pytest.approx(1.0)
    # class 0 in 4 images (1/4 each), class 1 in 1, class 2 in 1.
    pos = np.array([0.25, 0.25, 0.25, 1.0, 1.0]) / 2.75 * 0.75
    np.testing.assert_allclose(probs[:5], pos)
    np.testing.assert_allclose(probs[5:], [0.25 / 3] * 3)


def test_weights_edge_cases():
    all_neg = np.zeros((4, 6), dtype=int)
    np.testing.assert_allclose(image_sampling_weights(all_neg), [0.25] * 4)
    no_neg = SMALL[:5]
    assert image_sampling_weights(no_neg, 0.5).sum() == pytest.approx(1.0)
    assert image_sampling_weights(SMALL, 0.0)[5:].sum() == 0
    with pytest.raises(ValueError, match='neg_fraction'):
        image_sampling_weights(SMALL, 1.5)
    with pytest.raises(ValueError, match='0/1'):
        image_sampling_weights(SMALL * 2)
    with pytest.raises(ValueError, match='shape'):
        image_sampling_weights(np.zeros(6))


def test_labels_from_img_labels_or_instances(make_label_dataset):
    with_labels = make_label_dataset(SMALL)
    from_instances = make_label_dataset(SMALL, with_img_labels=False)
    assert 'img_labels' not in from_instances.get_data_info(0)
    np.testing.assert_array_equal(
        image_labels_from_dataset(with_labels), SMALL)
    np.testing.assert_array_equal(
        image_labels_from_dataset(from_instances), SMALL)


def test_malformed_img_labels_raise(make_label_dataset):
    dataset = make_label_dataset(SMALL)
    with pytest.raises(ValueError, match='img00000.png.*7 values'):
        image_labels_from_dataset(dataset, num_classes=7)


def test_deterministic_per_seed_and_epoch(make_label_dataset):
    dataset = make_label_dataset(SMALL)
    a = CXRBalancedSampler(dataset, seed=7, num_samples=64)
    b = CXRBalancedSampler(dataset, seed=7, num_samples=64)
    assert len(a) == 64
    epoch0 = list(a)
    assert epoch0 == list(b) == list(a)
    a.set_epoch(1)
    b.set_epoch(1)
    epoch1 = list(a)
    assert epoch1 == list(b)
    assert epoch1 != epoch0
    other_seed = CXRBalancedSampler(dataset, seed=8, num_samples=64)
    assert list(other_seed) != epoch0
    a.set_epoch(0)
    assert list(a) == epoch0


def test_two_ranks_get_disjoint_equal_shards(make_label_dataset):
    dataset = make_label_dataset(SMALL)
    shards = [
        CXRBalancedSampler(
            dataset, seed=3, num_samples=11, rank=r, world_size=2)
        for r in range(2)
    ]
    for s in shards:
        s.set_epoch(2)
    r0, r1 = list(shards[0]), list(shards[1])
    assert len(r0) == len(r1) == len(shards[0]) == 6
    # The shards are the even and odd positions of one shared draw.
    single = CXRBalancedSampler(dataset, seed=3, num_samples=12)
    single.set_epoch(2)
    whole = list(single)
    assert whole[0::2] == r0 and whole[1::2] == r1
    with pytest.raises(ValueError, match='rank'):
        CXRBalancedSampler(dataset, seed=3, rank=2, world_size=2)


def test_built_by_runner_dataloader_builder(make_label_dataset):
    init_default_scope('mmdet')
    dataset = make_label_dataset(SMALL)
    loader = Runner.build_dataloader(
        dict(
            dataset=dataset,
            sampler=dict(type='CXRBalancedSampler', neg_fraction=0.5),
            batch_size=2,
            num_workers=0,
            collate_fn=list),
        seed=5)
    sampler = loader.sampler
    assert isinstance(sampler, CXRBalancedSampler)
    assert sampler.seed == 5 and len(sampler) == len(SMALL)
    assert sum(len(batch) for batch in loader) == len(SMALL)


def test_num_samples_validation(make_label_dataset):
    dataset = make_label_dataset(SMALL)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match='num_samples'):
            CXRBalancedSampler(dataset, seed=0, num_samples=bad)


def test_draws_follow_the_probabilities(make_label_dataset):
    dataset = make_label_dataset(SMALL)
    sampler = CXRBalancedSampler(
        dataset, seed=11, neg_fraction=0.2, num_samples=40000)
    counts = np.bincount(list(sampler), minlength=len(SMALL))
    np.testing.assert_allclose(counts / counts.sum(), sampler.probs, atol=0.01)


def test_real_vinbig_distribution_is_balanced(vinbig_label_dataset, tmp_path):
    report = sampler_balance_report(
        vinbig_label_dataset, seed=0, neg_fraction=0.1)
    summary = {
        name:
        dict(
            max_min_ratio=round(r['max_min_ratio'], 3),
            negative_share=round(r['negative_share'], 3),
            unique_fraction=round(r['unique_fraction'], 3),
            class_frequencies=dict(
                zip(CXR_CLASSES, [round(f, 4)
                                  for f in r['class_frequencies']])))
        for name, r in report.items()
    }
    print(json.dumps(summary, indent=1))
    (tmp_path / 'sampler_balance.json').write_text(json.dumps(report))
    random_ratio = report['random']['max_min_ratio']
    balanced_ratio = report['cxr_balanced']['max_min_ratio']
    # VinBig: Cardiomegaly is in 3.75x as many images as Infiltration.
    assert random_ratio == pytest.approx(2300 / 613)
    # The excess over a uniform ratio of 1 shrinks more than threefold
    # (label co-occurrence keeps it from reaching 1).
    assert balanced_ratio - 1 < (random_ratio - 1) / 3
    assert report['cxr_balanced']['negative_share'] == pytest.approx(
        0.1, abs=0.015)
    freqs = report['cxr_balanced']['class_frequencies']
    rand = report['random']['class_frequencies']
    rarest = int(np.argmin(rand))
    assert CXR_CLASSES[rarest] == 'Infiltration'
    assert freqs[rarest] > 5 * rand[rarest]


def test_frequency_helpers():
    freqs = sampled_class_frequencies(SMALL, [0, 3, 4, 5])
    np.testing.assert_allclose(freqs, [0.5, 0.25, 0.25, 0, 0, 0])
    assert max_min_ratio(freqs) == float('inf')
    assert max_min_ratio(freqs[:3]) == 2.0
