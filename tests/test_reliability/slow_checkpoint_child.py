# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Child process of test_atomic_checkpoint: a checkpoint write that stops
half-way, so the test can SIGKILL it there.

``python slow_checkpoint_child.py WORK_DIR SCENARIO SAVER``:

- SCENARIO ``train``: a toy Runner trains 3 epochs with a checkpoint each
  epoch; the write of ``epoch_2.pth`` stops half-way.
- SCENARIO ``overwrite``: ``ckpt.pth`` is written whole (``value`` 1), then
  written again (``value`` 2) and that write stops half-way.
- SAVER ``atomic`` (the plugin's save, installed by ``import cxr_mmdet``)
  or ``upstream`` (mmengine's own, the control).

A stopped write first writes half of the bytes to the file, flushes them,
creates ``WORK_DIR/HALF_WRITTEN`` and sleeps.
"""
from __future__ import annotations

import builtins
import os
import os.path as osp
import sys
import time

import torch
import torch.nn as nn

TARGETS = ('epoch_2.pth', 'ckpt.pth')


def build_runner(work_dir: str, epochs: int = 3, **kwargs):
    """The toy Runner of the ``train`` scenario. It imports ``cxr_mmdet``
    (which installs the atomic save), so the ``upstream`` control, which
    must run mmengine alone, never calls it."""
    from cxr_mmdet.testing import ToyDataset, ToyRegressor, toy_runner

    class BigModel(ToyRegressor):
        """A linear model with a few MB of weights."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(512, 512)

        def predict_tensor(self, inputs):
            return self.linear(inputs).mean(dim=1, keepdim=True)

    dataset = ToyDataset(8, lambda idx: torch.full((512, ), float(idx) / 8),
                         lambda x: x[:1])
    return toy_runner(
        work_dir,
        BigModel(),
        dataset,
        epochs,
        lr=1e-3,
        loader=dict(shuffle=False),
        **kwargs)


class _StopHalfWay:
    """A file whose first write stops after half of the bytes."""

    def __init__(self, f, marker: str):
        self._f = f
        self._marker = marker

    def write(self, data) -> int:
        view = memoryview(data)
        self._f.write(view[:len(view) // 2])
        self._f.flush()
        os.fsync(self._f.fileno())
        with open(self._marker, 'w') as m:
            m.write('half')
        time.sleep(600)
        raise RuntimeError('not killed')

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def _is_target(path: str) -> bool:
    name = osp.basename(str(path))
    return any(name == t or name.startswith(f'.{t}.') for t in TARGETS)


def install_stop(work_dir: str, armed: list) -> None:
    """Make the next binary write of a target file stop half-way."""
    marker = osp.join(work_dir, 'HALF_WRITTEN')
    real_open, real_fdopen = builtins.open, os.fdopen

    def stop(f, path):
        if armed and 'w' in getattr(f, 'mode', '') and _is_target(path):
            return _StopHalfWay(f, marker)
        return f

    def slow_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        return stop(f, file) if 'b' in mode else f

    def slow_fdopen(fd, mode='r', *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        if 'b' in mode:
            return stop(f, os.readlink(f'/proc/self/fd/{fd}'))
        return f

    builtins.open = slow_open
    os.fdopen = slow_fdopen


def main(work_dir: str, scenario: str, saver: str) -> None:
    import mmengine.runner.runner as runner_mod
    if saver == 'atomic':
        import cxr_mmdet  # noqa: F401  installs the atomic save
        from cxr_mmdet.compat import atomic_checkpoint
        if runner_mod.save_checkpoint is not \
                atomic_checkpoint.atomic_save_checkpoint:
            raise RuntimeError('the atomic save is not installed')
    elif saver != 'upstream':  # upstream: mmengine alone
        raise ValueError(f'unknown saver {saver!r}')
    os.makedirs(work_dir, exist_ok=True)
    armed: list = []
    install_stop(work_dir, armed)
    if scenario == 'train':
        from mmengine.hooks import Hook

        class Arm(Hook):

            def after_train_epoch(self, runner):
                if runner.epoch == 1:  # epoch 2 (0-based 1) is saving
                    armed.append(True)

        runner = build_runner(work_dir, custom_hooks=[Arm()])
        runner.train()
    elif scenario == 'overwrite':
        path = osp.join(work_dir, 'ckpt.pth')
        big = torch.arange(1 << 20, dtype=torch.float32)
        runner_mod.save_checkpoint(dict(value=1, weights=big), path)
        armed.append(True)
        runner_mod.save_checkpoint(dict(value=2, weights=big + 1), path)
    else:
        raise ValueError(f'unknown scenario {scenario!r}')


if __name__ == '__main__':
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    main(*sys.argv[1:4])
