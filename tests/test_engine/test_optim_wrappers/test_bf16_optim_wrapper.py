# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""BF16OptimWrapper: bf16 forward on CPU, fp32 state, exact resume, and
the fp32 fallback where the CPU has no native bf16."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

import cxr_mmdet  # noqa: F401
from cxr_mmdet.engine.optim_wrappers import BF16OptimWrapper
from cxr_mmdet.engine.optim_wrappers import \
    bf16_optim_wrapper as bf16_module
from cxr_mmdet.testing import ToyDataset, ToyRegressor, toy_runner


class TinyConvModel(ToyRegressor):
    """A conv and a linear layer; records the dtype the conv computed in."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 1)
        self.seen_dtypes = []

    def predict_tensor(self, inputs):
        feat = self.conv(inputs)
        self.seen_dtypes.append(feat.dtype)
        return self.fc(feat.mean((2, 3)))


def _sample(idx):
    g = torch.Generator().manual_seed(idx)
    return torch.randn(3, 8, 8, generator=g)


def _runner(work_dir, epochs, wrapper='BF16OptimWrapper', **kwargs):
    optim_wrapper = dict(
        type=wrapper,
        optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
    if wrapper == 'BF16OptimWrapper':
        optim_wrapper['enabled'] = kwargs.pop('enabled', True)
    dataset = ToyDataset(16, _sample, lambda x: x.mean().reshape(1))
    return toy_runner(
        work_dir,
        TinyConvModel(),
        dataset,
        epochs,
        optim_wrapper=optim_wrapper,
        **kwargs)


def _resumed(work_dir, source, epochs):
    """A BF16 run resuming from ``source``'s ``epoch_1.pth``, trained."""
    runner = _runner(
        work_dir,
        epochs,
        resume=True,
        load_from=str(source / 'epoch_1.pth'))
    runner.train()
    return runner


def _weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_bf16_training_step_keeps_fp32_state(tmp_path):
    runner = _runner(tmp_path / 'bf16', epochs=1)
    before = _weights(runner)
    runner.train()
    model = runner.model
    assert isinstance(runner.optim_wrapper, BF16OptimWrapper)
    assert model.seen_dtypes and set(model.seen_dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    state = runner.optim_wrapper.optimizer.state
    assert state and all(s['momentum_buffer'].dtype == torch.float32
                         for s in state.values())
    after = _weights(runner)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())
    # the state dict is the fp32 wrapper's (no loss scaler)
    fp32 = OptimWrapper(optimizer=torch.optim.SGD(
        model.parameters(), lr=0.05, momentum=0.9))
    assert set(runner.optim_wrapper.state_dict()) == set(fp32.state_dict())


def test_resume_matches_uninterrupted_run(tmp_path):
    full = _runner(tmp_path / 'full', epochs=3)
    full.train()
    resumed = _resumed(tmp_path / 'resumed', tmp_path / 'full', 3)
    assert resumed.epoch == full.epoch == 3
    a, b = _weights(full), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fp32_checkpoint_resumes_under_bf16(tmp_path):
    _runner(tmp_path / 'fp32', epochs=1, wrapper='OptimWrapper').train()
    resumed = _resumed(tmp_path / 'mixed', tmp_path / 'fp32', 2)
    assert resumed.epoch == 2
    assert set(resumed.model.seen_dtypes) == {torch.bfloat16}


def test_auto_without_native_bf16_falls_back_with_message(
        tmp_path, monkeypatch):
    messages = []
    monkeypatch.setattr(bf16_module, 'cpu_bf16_supported', lambda: False)
    monkeypatch.setattr(bf16_module, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    runner = _runner(tmp_path / 'fallback', epochs=1, enabled='auto')
    runner.train()
    assert runner.optim_wrapper.bf16 is False
    assert set(runner.model.seen_dtypes) == {torch.float32}
    assert len(messages) == 1 and 'training in fp32' in messages[0]


def test_auto_with_native_bf16_turns_it_on(monkeypatch):
    messages = []
    monkeypatch.setattr(bf16_module, 'cpu_bf16_supported', lambda: True)
    monkeypatch.setattr(bf16_module, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    model = nn.Linear(2, 1)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='BF16OptimWrapper', enabled='auto',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    assert wrapper.bf16 is True
    assert len(messages) == 1 and 'native bf16, the forward' in messages[0]
    with wrapper.optim_context(model):
        assert model(torch.ones(1, 2)).dtype == torch.bfloat16


def test_bad_enabled_value():
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="enabled must be .*got 'yes'"):
        BF16OptimWrapper(enabled='yes',
                         optimizer=torch.optim.SGD(model.parameters(),
                                                   lr=0.1))


def test_cpu_bf16_supported_reads_cpuinfo(tmp_path):
    with_flag = tmp_path / 'with'
    with_flag.write_text('processor\t: 0\nflags\t\t: fpu sse avx512f '
                         'avx512_bf16\n')
    without = tmp_path / 'without'
    without.write_text('processor\t: 0\nflags\t\t: fpu sse avx2\n')
    assert bf16_module.cpu_bf16_supported(str(with_flag)) is True
    assert bf16_module.cpu_bf16_supported(str(without)) is False
    assert bf16_module.cpu_bf16_supported(str(tmp_path / 'none')) is False
