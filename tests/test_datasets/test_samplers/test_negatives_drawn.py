# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The main config trains on negatives, as often as neg_fraction says."""
from __future__ import annotations

import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import cxr_mmdet  # noqa: F401

from cxr_mmdet.testing import write_voc_tree

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
MAIN = osp.join(ROOT, 'configs', 'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')
DRAWS = 20000


def _train_loader_cfg(data_root: str, filter_empty_gt: bool | None = None):
    loader = copy.deepcopy(Config.fromfile(MAIN).train_dataloader.to_dict())
    loader.update(num_workers=0, persistent_workers=False, batch_size=1)
    dataset = loader['dataset']
    dataset.update(
        data_root=data_root, ann_file='VOC2007/ImageSets/Main/trainval.txt')
    if filter_empty_gt is not None:
        dataset['filter_cfg']['filter_empty_gt'] = filter_empty_gt
    loader['sampler'].update(seed=0, num_samples=DRAWS)
    return loader


@pytest.fixture
def tree(tmp_path):
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(data_root, num_trainval=10, num_negatives=3)
    negatives = {
        i for i, t in truth.items()
        if t['split'] == 'trainval' and len(t['labels']) == 0
    }
    assert len(negatives) == 3
    return data_root, negatives


def _negative_share(loader) -> tuple[int, float]:
    dataset, sampler = loader.dataset, loader.sampler
    negative = np.array([
        not dataset.get_data_info(i)['instances']
        for i in range(len(dataset))
    ])
    drawn = np.fromiter(iter(sampler), dtype=np.int64)
    assert len(drawn) == DRAWS
    return int(negative.sum()), float(negative[drawn].mean())


def test_main_config_draws_negatives_at_neg_fraction(tree):
    data_root, negatives = tree
    cfg = _train_loader_cfg(data_root)
    loader = Runner.build_dataloader(cfg, seed=0)
    assert type(loader.sampler).__name__ == 'CXRBalancedSampler'
    num_negatives, share = _negative_share(loader)
    assert num_negatives == len(negatives)
    assert len(loader.dataset) == 10
    neg_fraction = cfg['sampler']['neg_fraction']
    # binomial standard error over 20000 draws at p=0.1 is 0.002
    assert share == pytest.approx(neg_fraction, abs=0.01)


def test_filtering_the_empty_images_would_never_draw_a_negative(tree):
    data_root, _ = tree
    loader = Runner.build_dataloader(
        _train_loader_cfg(data_root, filter_empty_gt=True), seed=0)
    num_negatives, share = _negative_share(loader)
    assert (num_negatives, share) == (0, 0.0)
    assert len(loader.dataset) == 7
