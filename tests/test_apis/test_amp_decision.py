# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""``--amp`` picks AmpOptimWrapper with CUDA, BF16OptimWrapper without;
val/test loops follow."""
from __future__ import annotations

import os.path as osp

import pytest
import torch

import cxr_mmdet  # noqa: F401
from cxr_mmdet.apis import run_config
from cxr_mmdet.apis.run_config import (amp_optim_wrapper, build_train_cfg,
                                       loop_autocast)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'ssd',
                'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')
MAIN = osp.join(ROOT, 'configs', 'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')

SGD = dict(type='SGD', lr=0.01)


@pytest.mark.parametrize('cuda,expected', [
    (True, dict(type='AmpOptimWrapper', optimizer=SGD,
                loss_scale='dynamic')),
    (False, dict(type='BF16OptimWrapper', optimizer=SGD, enabled=True)),
])
def test_amp_optim_wrapper(cuda, expected):
    for start in (dict(type='OptimWrapper', optimizer=SGD),
                  dict(type='BF16OptimWrapper', enabled='auto',
                       optimizer=SGD)):
        assert amp_optim_wrapper(start, cuda) == expected


@pytest.mark.parametrize('amp,wrapper,cuda,bf16,expected', [
    (True, dict(type='OptimWrapper'), True, False, True),
    (True, dict(type='OptimWrapper'), False, False, True),
    (False, dict(type='OptimWrapper'), False, True, False),
    (False, dict(type='BF16OptimWrapper'), False, True, True),
    (False, dict(type='BF16OptimWrapper'), False, False, False),
    (False, dict(type='BF16OptimWrapper', enabled=True), False, False, True),
    (False, dict(type='BF16OptimWrapper', enabled=False), False, True,
     False),
    (False, dict(type='BF16OptimWrapper'), True, True, False),
    (False, None, False, True, False),
])
def test_loop_autocast(amp, wrapper, cuda, bf16, expected):
    assert loop_autocast(amp, wrapper, cuda, bf16) is expected


def _fake_machine(monkeypatch, cuda: bool, bf16: bool):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    monkeypatch.setattr(run_config, 'cpu_bf16_supported', lambda: bf16)


def test_train_amp_without_cuda(monkeypatch, tmp_path):
    _fake_machine(monkeypatch, cuda=False, bf16=True)
    cfg = build_train_cfg(MAIN, work_dir=str(tmp_path), amp=True)
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    assert cfg.optim_wrapper.enabled is True
    assert 'loss_scale' not in cfg.optim_wrapper
    assert cfg.val_cfg.fp16 is True and cfg.test_cfg.fp16 is True


def test_train_amp_with_cuda(monkeypatch, tmp_path):
    _fake_machine(monkeypatch, cuda=True, bf16=False)
    cfg = build_train_cfg(MAIN, work_dir=str(tmp_path), amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'


@pytest.mark.parametrize('bf16', [True, False])
def test_demo_config_follows_the_cpu(monkeypatch, tmp_path, bf16):
    _fake_machine(monkeypatch, cuda=False, bf16=bf16)
    cfg = build_train_cfg(DEMO, work_dir=str(tmp_path))
    assert cfg.optim_wrapper.type == 'BF16OptimWrapper'
    assert cfg.optim_wrapper.enabled == 'auto'
    assert cfg.val_cfg.get('fp16', False) is bf16
    assert cfg.test_cfg.get('fp16', False) is bf16


def test_main_config_stays_fp32_without_amp(monkeypatch, tmp_path):
    _fake_machine(monkeypatch, cuda=False, bf16=True)
    cfg = build_train_cfg(MAIN, work_dir=str(tmp_path))
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert not cfg.val_cfg.get('fp16', False)
