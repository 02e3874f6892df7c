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


def _bootstrap(tmp_path, timeout=120, **env):
    full = dict(os.environ, VENV=str(tmp_path / 'venv'),
                CXR_MMDET_CACHE=str(tmp_path / 'cache'))
    full.update(env)
    args = full.pop('BOOTSTRAP_ARGS', '').split()
    return subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'bootstrap.sh'), *args],
        env=full, capture_output=True, text=True, timeout=timeout)


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


def test_no_cache_path_reaches_mmcv_sdist_metadata(tmp_path):
    """The bootstrap's steps in a throwaway venv, up to mmcv's egg_info.

    Same script, same constraints, empty cache: the build requirements,
    then torch (which requires setuptools>=77.0.3), then mmcv 2.1.0's
    sdist metadata step, which imports pkg_resources. Without the
    constraints file setuptools ends above 82 and that step fails.
    """
    proc = _bootstrap(tmp_path, PYTHON=sys.executable,
                      MIN_FREE_GB='0', BOOTSTRAP_ARGS='--check-sdist',
                      timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'mmcv 2.1.0 sdist metadata step passed' in proc.stdout, out
    py = tmp_path / 'venv' / 'bin' / 'python'
    setuptools_version = subprocess.run(
        [str(py), '-c', 'import setuptools; print(setuptools.__version__)'],
        capture_output=True, text=True, check=True).stdout.strip()
    assert int(setuptools_version.split('.')[0]) < 82, setuptools_version
    torch_version = subprocess.run(
        [str(py), '-c', 'import torch; print(torch.__version__)'],
        capture_output=True, text=True, check=True).stdout.strip()
    assert torch_version.startswith('2.14.1'), torch_version
    # the compile itself was not run and nothing was cached
    assert not list((tmp_path / 'cache').glob('wheels/*'))
