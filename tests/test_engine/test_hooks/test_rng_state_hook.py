# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""RNGStateHook: resumed training draws what the uninterrupted run drew,
even without a fixed seed."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn as nn

import cxr_mmdet  # noqa: F401
from cxr_mmdet.engine.hooks import RNGStateHook
from cxr_mmdet.engine.hooks.rng_state_hook import (capture_rng_state,
                                                   restore_rng_state)
from cxr_mmdet.testing import ToyDataset, ToyRegressor, toy_runner


class NoisyModel(ToyRegressor):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def predict_tensor(self, inputs):
        # the model draws from torch's generator too (like dropout)
        return self.linear(inputs + 0.01 * torch.randn_like(inputs))


def _noisy_sample(idx):
    """Augments with numpy and python randomness (num_workers=0)."""
    jitter = np.random.uniform(-1, 1) + random.uniform(-1, 1)
    return torch.tensor([float(idx), 1.0, jitter])


def _sum(x):
    return x.sum(0, keepdim=True)


def _runner(work_dir,
            epochs,
            hooks=True,
            seed=None,
            num_workers=0,
            persistent_workers=False,
            **kwargs):
    return toy_runner(
        work_dir,
        NoisyModel(),
        ToyDataset(12, _noisy_sample, _sum),
        epochs,
        lr=0.001,
        # seed None: mmengine draws one (and the sampler's) per runner
        seed=seed,
        loader=dict(
            num_workers=num_workers, persistent_workers=persistent_workers),
        custom_hooks=[RNGStateHook()] if hooks else [],
        **kwargs)


def _weights(runner):
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize('hooks', [True, False])
def test_resume_without_fixed_seed_repeats_the_run(tmp_path, hooks):
    full = _runner(tmp_path / 'full', epochs=3, hooks=hooks)
    full.train()
    ckpt = str(tmp_path / 'full' / 'epoch_1.pth')
    resumed = _runner(
        tmp_path / 'resumed',
        epochs=3,
        hooks=hooks,
        resume=True,
        load_from=ckpt)
    resumed.train()
    assert resumed.epoch == full.epoch == 3
    if hooks:
        assert _same(_weights(full), _weights(resumed))
        assert resumed.train_dataloader.sampler.seed == \
            full.train_dataloader.sampler.seed
    else:
        # the control: without the hook the resumed run departs
        assert not _same(_weights(full), _weights(resumed))


def test_state_is_plain_and_loads_under_weights_only(tmp_path):
    runner = _runner(tmp_path / 'a', epochs=1)
    runner.train()
    meta = torch.load(tmp_path / 'a' / 'epoch_1.pth')['meta']  # safe load
    state = meta['rng_state']
    assert isinstance(state['numpy']['key'], list)
    assert isinstance(state['python'], tuple)
    assert state['sampler_seed'] == runner.train_dataloader.sampler.seed


def test_load_from_does_not_touch_the_generators(tmp_path):
    _runner(tmp_path / 'a', epochs=1).train()
    hook = RNGStateHook()
    ckpt = torch.load(tmp_path / 'a' / 'epoch_1.pth')

    class NotResuming:
        _resume = False

    hook.after_load_checkpoint(NotResuming(), ckpt)
    assert hook._pending is None


def test_capture_restore_round_trip():
    state = capture_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    assert restore_rng_state(state)[:3] == ['python', 'numpy', 'torch']
    again = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == again
    with pytest.raises(ValueError, match='must be a dict'):
        restore_rng_state([1, 2])


@pytest.mark.parametrize('persistent', [False, True])
def test_data_workers(tmp_path, persistent):
    """Workers draw the augmentation; mmengine seeds each from ``seed +
    worker id`` when it starts. Non-persistent workers restart every epoch
    with that seed, in a resumed run too: exact. Persistent workers
    continue their stream across epochs, which a resumed run (fresh
    workers) cannot: only the augmentation draws differ, so the weights
    stay close but not equal."""
    kwargs = dict(seed=3, num_workers=2, persistent_workers=persistent)
    full = _runner(tmp_path / 'full', epochs=3, **kwargs)
    full.train()
    resumed = _runner(
        tmp_path / 'resumed',
        epochs=3,
        resume=True,
        load_from=str(tmp_path / 'full' / 'epoch_1.pth'),
        **kwargs)
    resumed.train()
    a, b = _weights(full), _weights(resumed)
    if not persistent:
        assert _same(a, b)
        return
    assert not _same(a, b)
    for key in a:
        diff = (a[key] - b[key]).norm() / a[key].norm()
        assert diff < 0.05, (key, float(diff))
