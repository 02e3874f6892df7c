# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ChannelsLastHook: convolutions train and test in NHWC, the optimiser
still updates the same parameters, and checkpoints load either way."""
from __future__ import annotations

import torch
import torch.nn as nn
from mmengine.runner import Runner

import cxr_mmdet  # noqa: F401
from cxr_mmdet.engine.hooks import ChannelsLastHook, to_channels_last
from cxr_mmdet.testing import (ToyDataset, ToyRegressor, toy_loader,
                               toy_runner)
from mmdet.registry import HOOKS

CL = torch.channels_last


class ConvModel(ToyRegressor):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 1)
        self.seen_layouts = []

    def predict_tensor(self, inputs):
        feat = self.bn(self.conv(inputs))
        self.seen_layouts.append(feat.is_contiguous(memory_format=CL))
        return self.fc(feat.mean((2, 3)))


def _sample(idx):
    g = torch.Generator().manual_seed(idx)
    return torch.rand(3, 8, 8, generator=g)


def _dataset():
    return ToyDataset(8, _sample, lambda x: x.mean().reshape(1))


def test_hook_is_registered_in_mmdet():
    assert HOOKS.get('ChannelsLastHook') is ChannelsLastHook


def test_to_channels_last_converts_4d_weights_only_once():
    model = ConvModel()
    linear = model.fc.weight
    assert not model.conv.weight.is_contiguous(memory_format=CL)
    assert to_channels_last(model) == 1
    assert model.conv.weight.is_contiguous(memory_format=CL)
    assert model.fc.weight is linear
    assert to_channels_last(model) == 0


def test_training_runs_nhwc_and_updates_the_optimised_parameters(tmp_path):
    model = ConvModel()
    before = model.conv.weight.detach().clone()
    runner = toy_runner(
        tmp_path,
        model,
        _dataset(),
        epochs=2,
        lr=0.1,
        seed=None,
        loader=dict(shuffle=False),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2)),
        custom_hooks=[dict(type='ChannelsLastHook')],
        default_scope='mmdet')
    runner.train()
    # every forward saw NHWC features, and the weights the optimiser held
    # are the ones the model uses: training moved them
    assert model.seen_layouts and all(model.seen_layouts)
    assert model.conv.weight.is_contiguous(memory_format=CL)
    assert not torch.allclose(model.conv.weight, before)
    # the checkpoint loads into a fresh (contiguous) model, values equal
    ckpt = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu')
    fresh = ConvModel()
    fresh.load_state_dict(ckpt['state_dict'])
    assert torch.equal(fresh.conv.weight, model.conv.weight)
    assert fresh.conv.weight.is_contiguous()


def test_test_only_run_converts_after_loading(tmp_path):
    source = ConvModel()
    torch.save(
        dict(state_dict=source.state_dict(), meta=dict()),
        tmp_path / 'src.pth')
    model = ConvModel()
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        test_dataloader=toy_loader(_dataset(), shuffle=False),
        test_cfg=dict(),
        test_evaluator=dict(
            type='DumpResults', out_file_path=str(tmp_path / 'out.pkl')),
        load_from=str(tmp_path / 'src.pth'),
        custom_hooks=[dict(type='ChannelsLastHook')],
        default_scope='mmdet',
        experiment_name=f'cl_test_{tmp_path.name}')
    runner.test()
    assert model.conv.weight.is_contiguous(memory_format=CL)
    assert torch.equal(model.conv.weight, source.conv.weight)
    assert model.seen_layouts and all(model.seen_layouts)
