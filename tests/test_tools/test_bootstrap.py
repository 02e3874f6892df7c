# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/bootstrap.sh fails early and clearly on a machine it cannot use.

Each case points VENV at an empty temp folder, so the fast path (stamp of
the real .venv) is not taken and the preflight checks run; each stops
before anything is installed.
"""
from __future__ import annotations

import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _bootstrap(tmp_path, **env):
    full = dict(os.environ, VENV=str(tmp_path / 'venv'),
                CXR_MMDET_CACHE=str(tmp_path / 'cache'))
    full.update(env)
    return subprocess.run(['bash', osp.join(ROOT, 'tools', 'bootstrap.sh')],
                          env=full, capture_output=True, text=True,
                          timeout=120)


def test_wrong_python_is_named(tmp_path):
    fake = tmp_path / 'python3.9'
    fake.write_text('#!/bin/sh\necho 3.9\n')
    fake.chmod(0o755)
    proc = _bootstrap(tmp_path, PYTHON=str(fake))
    assert proc.returncode != 0
    assert 'Python 3.11 is required' in proc.stderr
    assert '3.9' in proc.stderr
    assert not (tmp_path / 'venv').exists()


def test_missing_python_is_named(tmp_path):
    proc = _bootstrap(tmp_path, PYTHON='python3.11-not-here')
    assert proc.returncode != 0
    assert "'python3.11-not-here' not found" in proc.stderr


def test_missing_compiler_is_named(tmp_path):
    proc = _bootstrap(tmp_path, PYTHON=sys.executable, CXX='no-such-g++')
    assert proc.returncode != 0
    assert 'no C++ compiler' in proc.stderr and 'no-such-g++' in proc.stderr


def test_too_little_disk_is_named(tmp_path):
    proc = _bootstrap(tmp_path, PYTHON=sys.executable,
                      MIN_FREE_GB='100000000')
    assert proc.returncode != 0
    assert 'GiB free' in proc.stderr
    assert not (tmp_path / 'venv').exists()


@pytest.mark.skipif(not osp.isfile(osp.join(ROOT, '.venv',
                                            '.cxr_mmdet_stamp')),
                    reason='needs the bootstrapped .venv')
def test_second_run_takes_the_fast_path():
    proc = subprocess.run(['bash', osp.join(ROOT, 'tools', 'bootstrap.sh')],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'environment up to date' in proc.stdout
