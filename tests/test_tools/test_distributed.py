# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Distributed training and testing for real: 2 CPU processes, gloo."""
from __future__ import annotations

import glob
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from cxr_mmdet.testing import write_voc_tree
from tests.test_apis.test_train_test_infer import (CONFIG, cli_options,
                                                   data_options)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _run(cmd: list[str], timeout: int = 600) -> str:
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(_free_port()),
               OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f'{" ".join(cmd)} failed ({proc.returncode}):\n'
                    f'{proc.stdout[-6000:]}')
    return proc.stdout


def test_two_process_train_and_test_match_single_process(tmp_path):
    data_root = str(tmp_path / 'VOCdevkit')
    write_voc_tree(data_root, num_trainval=8, num_test=5, size=96)
    work_dir = str(tmp_path / 'work')
    opts = cli_options(data_options(data_root, epochs=1))
    log = _run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir',
                work_dir, '--cfg-options'] + opts)
    assert 'Distributed training: True' in log, log[-3000:]
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    ckpts = sorted(os.listdir(work_dir))
    assert [c for c in ckpts if c.endswith('.pth')
            and c.startswith('epoch_')] == ['epoch_1.pth']
    assert not [c for c in ckpts if c.endswith('.tmp')]
    ckpt = osp.join(work_dir, 'epoch_1.pth')

    dist_dir = str(tmp_path / 'test2')
    _run(['bash', 'tools/dist_test.sh', CONFIG, ckpt, '2', '--work-dir',
          dist_dir, '--cfg-options'] + opts)
    single_dir = str(tmp_path / 'test1')
    _run([sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
          single_dir, '--cfg-options'] + opts)
    with open(osp.join(dist_dir, 'metrics.json')) as f:
        two = json.load(f)['metrics']
    with open(osp.join(single_dir, 'metrics.json')) as f:
        one = json.load(f)['metrics']
    assert set(two) == set(one)
    for key in one:
        if one[key] is None:
            assert two[key] is None, key
        else:
            assert two[key] == pytest.approx(one[key], abs=1e-6), key
    assert glob.glob(osp.join(dist_dir, '*', '*.log'))
