# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""SIGKILL during a checkpoint write leaves the previous checkpoint usable
and ``last_checkpoint`` pointing at a whole file."""
from __future__ import annotations

import glob
import os
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch
from mmengine.hooks import Hook

import cxr_mmdet  # noqa: F401
from .conftest import kill_when, read_text
from .slow_checkpoint_child import build_runner

CHILD = osp.join(
    osp.dirname(osp.abspath(__file__)), 'slow_checkpoint_child.py')


def _kill_half_way(work_dir: str, scenario: str, saver: str) -> None:
    """Run the child and SIGKILL it in the middle of its stopped write."""
    log = osp.join(osp.dirname(work_dir), f'{scenario}_{saver}.log')
    out = open(log, 'wb')
    proc = subprocess.Popen([sys.executable, CHILD, work_dir, scenario, saver],
                            stdout=out,
                            stderr=subprocess.STDOUT)
    proc._log_file = out
    marker = osp.join(work_dir, 'HALF_WRITTEN')
    killed = kill_when(
        proc, lambda: osp.exists(marker), timeout=120, poll=0.01)
    assert killed, read_text(log)[-3000:]
    assert proc.returncode == -9


def test_kill_during_epoch_save_keeps_last_checkpoint_whole(tmp_path):
    work_dir = str(tmp_path / 'work')
    _kill_half_way(work_dir, 'train', 'atomic')
    # the half-written bytes are in a temporary file, never at the name
    assert not osp.exists(osp.join(work_dir, 'epoch_2.pth'))
    (partial, ) = glob.glob(osp.join(work_dir, '.epoch_2.pth.*.tmp'))
    assert osp.getsize(partial) > 0
    last = read_text(osp.join(work_dir, 'last_checkpoint')).strip()
    assert osp.basename(last) == 'epoch_1.pth'
    ckpt = torch.load(last)  # whole, and loads under the safe loader
    assert ckpt['meta']['epoch'] == 1
    # auto-resume picks it up and finishes; the stale temporary is gone
    runner = build_runner(work_dir, resume=True)
    runner.train()
    assert runner.epoch == 3
    assert torch.load(osp.join(work_dir, 'epoch_2.pth'))['meta']['epoch'] \
        == 2
    assert glob.glob(osp.join(work_dir, '.*.tmp')) == []


class StartingEpoch(Hook):
    """Records the epoch training starts from (after any resume)."""

    def before_train(self, runner):
        self.epoch = runner.epoch


def test_auto_resume_survives_an_empty_or_stale_last_checkpoint(tmp_path):
    """mmengine writes last_checkpoint in place after the checkpoint: a
    kill in between leaves it empty; it may also name a deleted file."""
    work_dir = str(tmp_path / 'work')
    build_runner(work_dir, epochs=2).train()
    last = osp.join(work_dir, 'last_checkpoint')
    for content in ('', osp.join(work_dir, 'epoch_9.pth')):
        with open(last, 'w') as f:
            f.write(content)
        start = StartingEpoch()
        runner = build_runner(
            work_dir, epochs=3, resume=True, custom_hooks=[start])
        runner.train()
        # it resumed from epoch 2, the newest file, not from scratch
        assert start.epoch == 2 and runner.epoch == 3
        os.remove(osp.join(work_dir, 'epoch_3.pth'))


@pytest.mark.parametrize('saver', ['atomic', 'upstream'])
def test_kill_while_overwriting_keeps_the_old_file(tmp_path, saver):
    """Re-saving a name (mmengine after a new best score, the plugin's
    CheckpointAfterValHook after each validation) must not destroy it.
    ``upstream`` is the control: mmengine's own writer truncates it."""
    work_dir = str(tmp_path / 'work')
    _kill_half_way(work_dir, 'overwrite', saver)
    path = osp.join(work_dir, 'ckpt.pth')
    if saver == 'atomic':
        ckpt = torch.load(path)
        assert ckpt['value'] == 1
        assert torch.equal(ckpt['weights'],
                           torch.arange(1 << 20, dtype=torch.float32))
    else:
        with pytest.raises((RuntimeError, EOFError, pickle.UnpicklingError)):
            torch.load(path)
