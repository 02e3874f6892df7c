# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""mmengine checkpoints load under torch's weights_only default; hostile
pickles do not."""
from __future__ import annotations

import os
import os.path as osp
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.runner import load_checkpoint

import cxr_mmdet  # noqa: F401
from cxr_mmdet.compat import install_checkpoint_allowlist
from cxr_mmdet.testing import ToyDataset, ToyRegressor, toy_runner


class ToyModel(ToyRegressor):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def predict_tensor(self, inputs):
        return self.linear(inputs)


def _sample(idx):
    return torch.tensor([float(idx), 1.0])


def _runner(work_dir, epochs=1, **kwargs):
    dataset = ToyDataset(8, _sample, lambda x: x.sum(0, keepdim=True))
    return toy_runner(
        work_dir,
        ToyModel(),
        dataset,
        epochs,
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        **kwargs)


def test_runner_resumes_its_own_checkpoint(tmp_path):
    runner = _runner(tmp_path / 'a')
    runner.train()
    ckpt = tmp_path / 'a' / 'epoch_1.pth'
    assert ckpt.is_file()
    # the checkpoint really holds the types torch refuses by default
    from mmengine.logging import HistoryBuffer
    scalars = torch.load(ckpt)['message_hub']['log_scalars']
    assert any(isinstance(v, HistoryBuffer) for v in scalars.values())

    resumed = _runner(tmp_path / 'b', epochs=2, resume=True,
                      load_from=str(ckpt))
    resumed.train()
    assert resumed.epoch == 2
    assert resumed.iter == 4
    # the optimizer state came back (momentum buffers exist after resume)
    state = resumed.optim_wrapper.optimizer.state_dict()['state']
    assert state and all('momentum_buffer' in s for s in state.values())


def test_without_allowlist_the_upstream_defect_shows(tmp_path):
    runner = _runner(tmp_path / 'a')
    runner.train()
    ckpt = str(tmp_path / 'a' / 'epoch_1.pth')
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
            torch.load(ckpt)
    finally:
        install_checkpoint_allowlist()
    assert 'message_hub' in torch.load(ckpt)


class Hostile:
    """Unpickling this would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class GetattrChain:
    """A pickle that uses getattr to walk from an allowed class to os."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_methods(tmp_path):
    from mmengine.logging import HistoryBuffer
    path = str(tmp_path / 'getattr.pth')
    torch.save(dict(meta=GetattrChain(tmp_path / 'x')), path)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer'):
        torch.load(path)
    buf = HistoryBuffer()
    buf.update(1.5)
    torch.save(dict(buf=buf), tmp_path / 'ok.pth')
    loaded = torch.load(tmp_path / 'ok.pth')['buf']
    assert loaded.mean() == 1.5
    assert loaded.statistics('max') == 1.5


def test_hostile_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'hostile.pth')
    torch.save(
        dict(state_dict=ToyModel().state_dict(), meta=Hostile(marker)), path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(ToyModel(), path, map_location='cpu')
    runner = _runner(tmp_path / 'r', resume=True, load_from=path)
    with pytest.raises(pickle.UnpicklingError):
        runner.train()
    assert not osp.exists(marker)
