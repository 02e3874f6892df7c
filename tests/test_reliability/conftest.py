# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Helpers of the reliability suite: tiny training configs and tools run
in subprocesses that a test can kill."""
from __future__ import annotations

import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import time
from typing import Callable

import pytest

from cxr_mmdet.testing import write_voc_tree

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'ssd',
                       'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')

#: The schedule of the main config (ReduceOnPlateauLR on COCO mAP), with
#: an iteration warm-up so both kinds of scheduler state are exercised;
#: patience 0 makes the plateau scheduler act at every epoch.
PLATEAU_SCHEDULER = """[
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=4),
    dict(type='ReduceOnPlateauLR', monitor='coco/bbox_mAP', rule='greater',
         factor=0.5, patience=0, by_epoch=True),
]"""


def write_tiny_config(path: str,
                      data_root: str,
                      epochs: int = 2,
                      seed: int | None = 7,
                      sampler: str | None = None,
                      input_size: int = 160,
                      extra: str = '') -> str:
    """Write a config inheriting the demo config for a tiny CPU run.

    Single process, no data workers, a checkpoint and a validation every
    epoch, batch 2, deterministic with ``seed`` (None: no fixed seed);
    ``sampler`` replaces the training sampler (a ``dict(...)`` string).
    The demo's pipelines (random augmentation included) run at
    ``input_size`` (smaller than SSDLite's 320 for speed; the head does not
    care).
    """
    randomness = ('dict(seed=None)' if seed is None else
                  f'dict(seed={seed}, deterministic=True)')
    sampler_line = '' if sampler is None else f'sampler={sampler},'
    text = f"""_base_ = {DEMO_CONFIG!r}
data_root = {data_root.rstrip('/') + '/'!r}
size = ({input_size}, {input_size})
train_pipeline = [
    dict(type='CXRLoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Expand', mean=[123.675, 116.28, 103.53], to_rgb=True,
         ratio_range=(1, 4)),
    dict(type='MinIoURandomCrop', min_ious=(0.1, 0.3, 0.5, 0.7, 0.9),
         min_crop_size=0.3),
    dict(type='Resize', scale=size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion', brightness_delta=32,
         contrast_range=(0.5, 1.5), saturation_range=(0.5, 1.5),
         hue_delta=18),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='CXRLoadImageFromFile'),
    dict(type='Resize', scale=size, keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances', 'img_labels')),
]
train_cfg = dict(max_epochs={epochs}, val_interval=1)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, {sampler_line}
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
randomness = {randomness}
{extra}
"""
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


def tool_command(tool: str, *args: str) -> list[str]:
    """The command line running ``tools/<tool>.py`` with this Python
    (``tool`` may name a subfolder: ``'dataset_converters/prepare_data'``).
    """
    return [sys.executable, osp.join(ROOT, 'tools', f'{tool}.py'), *args]


def run_tool(tool: str, *args: str, log: str, timeout: float = 300) -> int:
    """Run a tool to the end; stdout and stderr go to ``log``."""
    with open(log, 'ab') as out:
        proc = subprocess.run(
            tool_command(tool, *args),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            timeout=timeout)
    return proc.returncode


def start_tool(tool: str, *args: str, log: str) -> subprocess.Popen:
    """Start a tool in the background; stdout and stderr go to ``log``."""
    out = open(log, 'ab')
    proc = subprocess.Popen(
        tool_command(tool, *args),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=ROOT)
    proc._log_file = out  # closed by kill_when
    return proc


def kill_when(proc: subprocess.Popen,
              ready: Callable[[], bool],
              timeout: float = 240,
              poll: float = 0.005) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()`` holds.

    Returns:
        bool: True if it was killed, False if it ended by itself first.
    """
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if ready():
                if proc.poll() is not None:
                    return False
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(30)
                return True
            if proc.poll() is not None:
                return False
            time.sleep(poll)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        raise TimeoutError(f'condition not met within {timeout} s')
    finally:
        proc._log_file.close()


def read_text(path: str) -> str:
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def run_logs(work_dir: str) -> list[str]:
    """The mmengine log files of a work dir, oldest run first."""
    return sorted(glob.glob(osp.join(work_dir, '*', '*.log')))


def log_contains(work_dir: str, text: str) -> bool:
    """Whether any mmengine log of ``work_dir`` holds ``text``."""
    return any(text in read_text(p) for p in run_logs(work_dir))


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory) -> dict:
    """A VOC tree shared by the training tests (read-only for them)."""
    root = tmp_path_factory.mktemp('reliability_data')
    data_root = str(root / 'VOCdevkit')
    # 5 positive training images: 2 batches of 2 an epoch; 2 test images
    truth = write_voc_tree(data_root, num_trainval=6, num_test=2, size=96)
    return dict(data_root=data_root, truth=truth, root=root)
