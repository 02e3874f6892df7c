# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run a tool's command line as a user does: a fresh Python process."""
from __future__ import annotations

import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_cli(tool: str, *args: str,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``tools/<tool>`` with this Python, this checkout's package
    first on the path; return the finished process (text output)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (ROOT, env.get('PYTHONPATH')) if p)
    return subprocess.run([sys.executable,
                           osp.join(ROOT, 'tools', tool), *args],
                          capture_output=True,
                          text=True,
                          cwd=ROOT,
                          env=env,
                          timeout=timeout)
