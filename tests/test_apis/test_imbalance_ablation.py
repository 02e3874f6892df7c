# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The imbalance ablation: remedies carried over, and a tiny real run."""
from __future__ import annotations

import glob
import json
import os.path as osp

import pytest
from mmengine.config import Config

from cxr_mmdet.apis import (DEMO_CONFIG, IMBALANCE_VARIANTS, ablation_cfg,
                            imbalance_remedy)
from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.testing import write_voc_tree


@pytest.mark.parametrize('variant', list(IMBALANCE_VARIANTS))
def test_each_variant_gets_its_remedy_and_keeps_the_demo_model(
        variant, tmp_path):
    config = IMBALANCE_VARIANTS[variant]
    demo = Config.fromfile(DEMO_CONFIG)
    cfg = ablation_cfg(config, DEMO_CONFIG, str(tmp_path), max_epochs=3)
    assert imbalance_remedy(cfg) == imbalance_remedy(Config.fromfile(config))
    # model, schedule and the rest of the hooks are the demo's
    assert cfg.model.backbone == demo.model.backbone
    assert cfg.model.bbox_head.in_channels == demo.model.bbox_head.in_channels
    assert cfg.param_scheduler == demo.param_scheduler
    assert cfg.train_cfg.max_epochs == 3
    others = [h for h in cfg.custom_hooks if h['type'] != 'ClassWeightHook']
    assert others == [
        h for h in demo.custom_hooks if h['type'] != 'ClassWeightHook'
    ]
    assert cfg.val_evaluator == demo.val_evaluator
    assert cfg.test_evaluator == demo.test_evaluator


def test_the_four_variants_are_four_remedies():
    remedies = {
        name: imbalance_remedy(Config.fromfile(path))
        for name, path in IMBALANCE_VARIANTS.items()
    }
    assert remedies['none']['head_type'] == 'SSDHead'
    assert remedies['none']['class_weight_hook'] is None
    weighted = {n for n, r in remedies.items()
                if r['class_weight'] == 'inverse_frequency'}
    balanced = {n for n, r in remedies.items()
                if r['sampler']['type'] == 'CXRBalancedSampler'}
    assert weighted == {'weights', 'both'}
    assert balanced == {'sampler', 'both'}
    for name, remedy in remedies.items():
        # negatives are drawn only by the balanced sampler
        assert remedy['filter_empty_gt'] is (name not in balanced)


def test_tiny_ablation_run_writes_the_table(tmp_path):
    """Two variants, one epoch of three iterations on a tiny VOC tree."""
    from tools.analysis_tools.ablate_imbalance import get_args_parser, main
    data_root = str(tmp_path / 'VOCdevkit') + '/'
    write_voc_tree(data_root, num_trainval=6, num_test=4)
    options = [
        'train_dataloader.batch_size=2', 'randomness.seed=0',
        'train_dataloader.dataset.ann_file='
        'VOC2007/ImageSets/Main/trainval.txt',
        'val_dataloader.dataset.ann_file=VOC2007/ImageSets/Main/test.txt',
        'test_dataloader.dataset.ann_file=VOC2007/ImageSets/Main/test.txt'
    ]
    for loader in ('train', 'val', 'test'):
        options += [
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    work_dir = tmp_path / 'ablation'
    out = main(get_args_parser().parse_args([
        '--data-root', data_root, '--work-dir',
        str(work_dir), '--variants', 'none', 'both', '--max-epochs', '1',
        '--cfg-options'
    ] + options))
    table = json.loads((work_dir / 'imbalance_ablation.json').read_text())
    assert table == json.loads(json.dumps(out['table']))
    assert list(table['variants']) == ['none', 'both']
    for name, row in table['variants'].items():
        for split in ('val', 'test'):
            result = row[split]
            assert set(result['per_class']) == set(CXR_CLASSES)
            values = [result['mAP@.5']] + list(result['per_class'].values())
            assert all(v is None or 0.0 <= v <= 1.0 for v in values)
            assert result['mAP@.5'] is not None
    markdown = (work_dir / 'imbalance_ablation.md').read_text()
    assert markdown.count('\n') == 2 + 2 * 2
    assert '| both | `ssd300_vgg16_1xb64-300e_cxr6.py` | test |' in markdown
    # each variant trained with its own remedy
    assert not (work_dir / 'none' / 'class_weights.json').exists()
    weights = json.loads(
        (work_dir / 'both' / 'class_weights.json').read_text())
    assert weights['sampler'] == 'CXRBalancedSampler'
    (dumped, ) = glob.glob(osp.join(work_dir, 'none', '*.py'))
    assert Config.fromfile(dumped).model.bbox_head.type == 'SSDHead'
