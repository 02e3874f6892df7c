# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Peak memory is the child's own, not inherited from a large parent."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cxr_mmdet.benchmarks.memory as memory

MODULE = Path(memory.__file__)


@pytest.mark.skipif(
    not Path('/proc/self/status').exists(), reason='needs /proc')
def test_child_peak_is_not_the_parent_peak():
    big = np.ones(300 * 2**20 // 8)  # 300 MiB touched in this process
    assert memory._max_rss_mb() > 300
    # a bare child that only loads the module: its peak is its own
    code = ('import importlib.util as u; '
            f's = u.spec_from_file_location("m", {str(MODULE)!r}); '
            'm = u.module_from_spec(s); s.loader.exec_module(m); '
            'print(m._max_rss_mb())')
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         check=True)
    assert 1 < float(out.stdout) < 150
    del big


def test_measure_rejects_unknown_mode():
    with pytest.raises(ValueError, match='mode'):
        memory.measure_peak_rss('plugin', 'fly', 'unused.py')
