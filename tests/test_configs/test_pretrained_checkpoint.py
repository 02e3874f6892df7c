# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The main config's COCO SSD300 ``load_from`` into the 6-class model.

The test writes a checkpoint in the layout of mmdet's published 2.x
checkpoints (``ssd300_coco_20210803_015428-d231a06e.pth``): ``meta`` with
``mmcv_version``, ``CLASSES``, ``config`` text, ``env_info``, ``epoch`` and
``iter``, an ``OrderedDict`` ``state_dict`` with the stock 81-class SSD300
keys and shapes (random values) and no optimizer. Nothing is downloaded.
"""
from __future__ import annotations

import os.path as osp
from collections import OrderedDict

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from cxr_mmdet.apis import build_train_cfg
from mmdet.datasets import CocoDataset
from mmdet.registry import MODELS
from cxr_mmdet.testing import mmdet_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN = osp.join(ROOT, 'configs', 'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')


def write_coco_ssd300_checkpoint(path: str) -> OrderedDict:
    """Write a stand-in of mmdet's COCO SSD300 checkpoint; return its
    state dict."""
    stock = Config.fromfile(mmdet_config('ssd/ssd300_coco.py'))
    stock.model.backbone.init_cfg = None
    stock.model.bbox_head.num_classes = 80
    model = MODELS.build(stock.model)
    g = torch.Generator().manual_seed(0)
    state_dict = OrderedDict(
        (k, torch.randn(v.shape, generator=g).to(v.dtype))
        for k, v in model.state_dict().items())
    meta = dict(
        env_info='sys.platform: linux\nPython: 3.7.10\nPyTorch: 1.9.0',
        config=stock.pretty_text,
        seed=0,
        exp_name='ssd300_coco.py',
        mmdet_version='2.15.0',
        CLASSES=tuple(CocoDataset.METAINFO['classes']),
        mmcv_version='1.3.8',
        epoch=120,
        iter=219960,
        time='Tue Aug  3 01:54:28 2021')
    torch.save(dict(meta=meta, state_dict=state_dict), path)
    return state_dict


def test_coco_checkpoint_loads_into_the_six_class_model(tmp_path, capsys):
    ckpt_path = str(tmp_path / 'ssd300_coco_20210803_015428-d231a06e.pth')
    coco = write_coco_ssd300_checkpoint(ckpt_path)
    assert 'optimizer' not in torch.load(ckpt_path)  # weights_only default
    cfg = build_train_cfg(
        MAIN,
        work_dir=str(tmp_path / 'work'),
        cfg_options=dict(load_from=ckpt_path))
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.load_or_resume()
    after = runner.model.state_dict()
    printed = capsys.readouterr()
    log = printed.out + printed.err + ''.join(
        open(p).read() for p in (tmp_path / 'work').glob('*/*.log'))

    classifier = {k for k in coco if k.startswith('bbox_head.cls_convs.')}
    assert len(classifier) == 12  # weight and bias of six levels
    for key, value in coco.items():
        if key in classifier:
            # skipped by shape: 81 x anchors channels vs 7 x anchors
            assert value.shape[0] % 81 == 0
            assert after[key].shape[0] % 7 == 0
            assert torch.equal(after[key], before[key]), key
            assert f'size mismatch for {key}' in log, key
        else:
            assert torch.equal(after[key], value), key
    # every other tensor of the 6-class model came from the checkpoint
    assert set(after) - set(coco) == {'bbox_head.class_weight'}
    assert 'missing keys in source state_dict: bbox_head.class_weight' in log


def test_main_config_load_from_is_overridable_offline(tmp_path):
    """An offline user points load_from at a local file or at None."""
    cfg = build_train_cfg(
        MAIN, work_dir=str(tmp_path), cfg_options=dict(load_from=None))
    assert cfg.load_from is None
    with pytest.raises(FileNotFoundError):
        Runner.from_cfg(
            build_train_cfg(
                MAIN,
                work_dir=str(tmp_path),
                cfg_options=dict(load_from=str(tmp_path / 'none.pth'))
            )).load_or_resume()
