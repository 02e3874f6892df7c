# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A training killed with SIGKILL resumes with ``--resume`` and ends where
an uninterrupted run with the same seed ends, bit for bit."""
from __future__ import annotations

import glob
import json
import math
import os.path as osp

import numpy as np
import pytest
import torch

import cxr_mmdet  # noqa: F401  (allow-list for torch.load)
from .conftest import (PLATEAU_SCHEDULER, kill_when, log_contains, read_text,
                       run_logs, run_tool, start_tool, write_tiny_config)

EPOCHS = 3


@pytest.fixture(scope='module')
def runs(tiny_data, tmp_path_factory) -> dict:
    """An uninterrupted run, and one killed after epoch 2 then resumed."""
    tmp = tmp_path_factory.mktemp('crash_resume')
    config = write_tiny_config(
        str(tmp / 'tiny_plateau.py'),
        tiny_data['data_root'],
        epochs=EPOCHS,
        # fp32: this checks the resume mechanism bit for bit, and bf16
        # autocast (the demo config's 'auto' on a CPU with native bf16) does
        # not give bitwise-equal weights between runs on every CPU
        extra=f'param_scheduler = {PLATEAU_SCHEDULER}\n'
        'optim_wrapper = dict(enabled=False)')
    reference = str(tmp / 'uninterrupted')
    crashed = str(tmp / 'crashed')
    log = str(tmp / 'tools.log')
    assert run_tool('train', config, '--work-dir', reference, log=log) == 0
    proc = start_tool('train', config, '--work-dir', crashed, log=log)
    # the kill lands while epoch 3 trains: epoch_2.pth is complete and
    # holds the state after epoch 2's validation
    killed = kill_when(
        proc,
        lambda: log_contains(crashed,
                             'CheckpointAfterValHook: re-saved epoch_2.pth'),
        poll=0.02)
    assert killed, read_text(log)[-3000:]
    killed_at = dict(
        returncode=proc.returncode,
        files=sorted(
            osp.basename(p) for p in glob.glob(osp.join(crashed, '*.pth'))),
        last=read_text(osp.join(crashed, 'last_checkpoint')))
    assert run_tool(
        'train', config, '--work-dir', crashed, '--resume',
        log=log) == 0, read_text(log)[-3000:]
    return dict(reference=reference, crashed=crashed, killed_at=killed_at)


def _equal(a, b, path='') -> list[str]:
    """Paths where two checkpoint trees differ (exact comparison)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f'{path}: keys {sorted(set(a) ^ set(b))}']
        return [d for k in a for d in _equal(a[k], b[k], f'{path}/{k}')]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f'{path}: length {len(a)} != {len(b)}']
        return [
            d for i, (x, y) in enumerate(zip(a, b))
            for d in _equal(x, y, f'{path}[{i}]')
        ]
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        same = a.shape == b.shape and a.dtype == b.dtype and bool(
            torch.equal(a, b) or (a.is_floating_point() and torch.equal(
                torch.nan_to_num(a, nan=1.2345), torch.nan_to_num(
                    b, nan=1.2345))))
        return [] if same else [f'{path}: tensors differ']
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return [] if np.array_equal(a, b) else [f'{path}: arrays differ']
    if isinstance(a, float) and isinstance(
            b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b else [f'{path}: {a!r} != {b!r}']


def _load(work_dir: str, epoch: int) -> dict:
    return torch.load(osp.join(work_dir, f'epoch_{epoch}.pth'))


def _train_rows(work_dir: str) -> dict[int, dict]:
    """Logged training scalars (loss terms, lr) by iteration, all runs."""
    rows = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in read_text(path).splitlines():
            row = json.loads(line)
            if 'loss' in row:
                rows[row['iter']] = {
                    k: v
                    for k, v in row.items()
                    if k.startswith('loss') or k in ('lr', 'epoch')
                }
    return rows


def test_the_kill_left_epoch_2_and_resume_continued_from_it(runs):
    killed = runs['killed_at']
    assert killed['returncode'] == -9
    epochs = [f for f in killed['files'] if f.startswith('epoch_')]
    assert epochs == ['epoch_1.pth', 'epoch_2.pth']
    assert killed['last'].strip().endswith('epoch_2.pth')
    logs = run_logs(runs['crashed'])
    assert len(logs) == 2
    resumed_log = read_text(logs[-1])
    assert 'resumed epoch: 2' in resumed_log
    assert osp.isfile(osp.join(runs['crashed'], f'epoch_{EPOCHS}.pth'))


def test_final_state_equals_the_uninterrupted_run(runs):
    ref = _load(runs['reference'], EPOCHS)
    got = _load(runs['crashed'], EPOCHS)
    # counters
    assert (got['meta']['epoch'],
            got['meta']['iter']) == (ref['meta']['epoch'], ref['meta']['iter'])
    assert ref['meta']['epoch'] == EPOCHS and ref['meta']['iter'] > 0
    # weights, bit for bit (the class weights are a buffer of the head)
    assert _equal(ref['state_dict'], got['state_dict']) == []
    # optimizer (momentum buffers, lr of the param groups)
    assert _equal(ref['optimizer'], got['optimizer']) == []
    # both schedulers, ReduceOnPlateau's best/bad-epoch counters included
    assert _equal(ref['param_schedulers'], got['param_schedulers']) == []
    for key in ('class_weights', 'class_counts', 'rng_state', 'seed',
                'val_metrics'):
        assert _equal(ref['meta'][key], got['meta'][key]) == [], key
    # the sampler's seed is part of the saved random state
    assert got['meta']['rng_state']['sampler_seed'] == 7


def test_every_resumed_iteration_repeats_the_uninterrupted_one(runs):
    """Same data order and augmentation (sampler position, random state):
    the same loss terms and learning rate at every iteration."""
    ref = _train_rows(runs['reference'])
    got = _train_rows(runs['crashed'])
    assert sorted(ref) == sorted(got)
    resumed_from = _load(runs['crashed'], 2)['meta']['iter']
    after = [i for i in ref if i > resumed_from]
    assert after, 'no iteration after the resume'
    for i in sorted(ref):
        assert got[i] == ref[i], f'iteration {i}'


def test_checkpoints_hold_the_state_after_their_validation(runs):
    """epoch_2.pth is re-saved after epoch 2's validation, so it holds
    that validation's ReduceOnPlateau step (mmengine writes it before)."""
    first, second = _load(runs['reference'], 1), _load(runs['reference'], 2)
    steps = [c['param_schedulers'][1]['last_step'] for c in (first, second)]
    # one plateau step per validation, each in its epoch's checkpoint
    assert steps[1] == steps[0] + 1
    assert second['meta']['val_metrics_epoch'] == 2
    # the optimizer's lr is the one after that step: the one epoch 3 used
    # (with mAP flat at patience 0 it was halved there)
    lrs = {g['lr'] for g in second['optimizer']['param_groups']}
    assert len(lrs) == 1
    rows = _train_rows(runs['reference'])
    epoch3_first = min(i for i, r in rows.items() if r['epoch'] == 3)
    assert rows[epoch3_first]['lr'] == pytest.approx(lrs.pop(), rel=1e-3)
