# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ClassWeightHook weighs the classes as the sampler shows them to the head.

Hand-worked example (two classes, ``neg_fraction=0.2``, 10 draws per
epoch), images and their boxes:

====  =====================  ===========  ==========  =========
img   boxes (class)          img labels   weight      p_i
====  =====================  ===========  ==========  =========
0     0, 0, 0                {0}          1/2         0.8 * .25
1     0                      {0}          1/2         0.8 * .25
2     1                      {1}          1           0.8 * .5
3     none (negative)        {}           -           0.2
====  =====================  ===========  ==========  =========

Raw box counts: [4, 1] -> weights total/count = [5/4, 5], mean 1:
[0.4, 1.6]. Seen per epoch: class 0: 10 * (0.2 * 3 + 0.2 * 1) = 8,
class 1: 10 * 0.4 * 1 = 4 -> weights [12/8, 12/4] / 2.25 = [2/3, 4/3].
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from mmdet.datasets import BaseDetDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from cxr_mmdet.engine.hooks.class_weight_hook import (ClassWeightHook,
                                                      sampler_draw)
from cxr_mmdet.models.dense_heads import expected_instances_per_class
from cxr_mmdet.testing import get_detector_cfg, toy_runner

CLASSES = ('Cardiomegaly', 'Nodule/Mass')
BOXES = [[0, 0, 0], [0], [1], []]
RAW_COUNTS = [4, 1]
PROBS = [0.2, 0.2, 0.4, 0.2]
SEEN_COUNTS = [8.0, 4.0]
RAW_WEIGHTS = [0.4, 1.6]
SEEN_WEIGHTS = [2 / 3, 4 / 3]


class BoxesDataset(BaseDetDataset):
    """Images (never read here) with the boxes of ``BOXES``."""

    METAINFO = dict(classes=CLASSES)

    def load_data_list(self) -> list[dict]:
        return [
            dict(
                img_path=f'img{i}.png',
                img_id=i,
                height=64,
                width=64,
                instances=[
                    dict(
                        bbox=[4. + j, 6., 40. + j, 50.],
                        bbox_label=label,
                        ignore_flag=0) for j, label in enumerate(labels)
                ]) for i, labels in enumerate(BOXES)
        ]


# the SSDLite config's detector with a head for the two classes
MODEL = get_detector_cfg('ssd/ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py')
MODEL.bbox_head.num_classes = len(CLASSES)


def make_runner(work_dir, sampler: dict) -> Runner:
    init_default_scope('mmdet')
    return toy_runner(
        work_dir,
        MODEL,
        BoxesDataset(pipeline=[]),
        lr=1e-4,
        momentum=0,
        seed=None,
        loader=dict(
            sampler=sampler, batch_size=2, collate_fn='pseudo_collate'),
        custom_hooks=[dict(type='ClassWeightHook')],
        default_scope='mmdet')


def test_expected_counts_by_hand():
    per_image = np.array([[3, 0], [1, 0], [0, 1], [0, 0]])
    assert expected_instances_per_class(per_image, np.array(PROBS),
                                        10) == pytest.approx(SEEN_COUNTS)
    with pytest.raises(ValueError, match='one value per image'):
        expected_instances_per_class(per_image, np.array([0.5, 0.5]), 10)
    with pytest.raises(ValueError, match='sum to 1'):
        expected_instances_per_class(per_image, np.array([.5, .5, .5, 0]),
                                     10)


def test_balanced_sampler_weights_follow_the_expected_counts(tmp_path):
    runner = make_runner(
        tmp_path,
        dict(
            type='CXRBalancedSampler',
            seed=0,
            neg_fraction=0.2,
            num_samples=10))
    np.testing.assert_allclose(runner.train_dataloader.sampler.probs, PROBS)
    ClassWeightHook().before_train(runner)
    weights = runner.model.bbox_head.foreground_class_weight
    np.testing.assert_allclose(weights, SEEN_WEIGHTS, rtol=1e-6)
    record = json.loads((tmp_path / 'class_weights.json').read_text())
    assert record['class_counts'] == RAW_COUNTS
    assert record['seen_class_counts'] == pytest.approx(SEEN_COUNTS)
    assert record['sampler'] == 'CXRBalancedSampler'
    np.testing.assert_allclose(record['class_weights'], SEEN_WEIGHTS,
                               rtol=1e-6)


def test_uniform_sampler_weights_follow_the_raw_counts(tmp_path):
    runner = make_runner(tmp_path, dict(type='DefaultSampler', shuffle=True))
    hook = ClassWeightHook()
    hook.before_train(runner)
    np.testing.assert_allclose(
        runner.model.bbox_head.foreground_class_weight,
        RAW_WEIGHTS,
        rtol=1e-6)
    checkpoint = dict(meta={})
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta']['class_counts'] == RAW_COUNTS
    assert checkpoint['meta']['seen_class_counts'] == [4.0, 1.0]


def test_a_sampler_of_unknown_draw_is_refused():
    from mmdet.datasets.samplers import ClassAwareSampler
    init_default_scope('mmdet')
    sampler = ClassAwareSampler(BoxesDataset(pipeline=[]), seed=0)
    with pytest.raises(ValueError, match='ClassAwareSampler'):
        sampler_draw(sampler)
