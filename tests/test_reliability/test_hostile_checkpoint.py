# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A checkpoint whose pickle would run a command is refused by every
loading path of the tools (the functions they call), with an error naming
the file; the command never runs. (The torch-level allow-list is tested
in tests/test_compat.)"""
from __future__ import annotations

import glob
import json
import os
import os.path as osp

import pytest
import torch

from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.compat import UnsafeCheckpointError
from cxr_mmdet.apis import evaluate_checkpoint, run_inference, train_detector
from .conftest import write_tiny_config


class RunsACommand:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture(scope='module')
def setting(tiny_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('hostile')
    config = write_tiny_config(
        str(tmp / 'tiny.py'), tiny_data['data_root'], epochs=1)
    from mmdet.apis import init_detector
    model = init_detector(config, None, device='cpu')
    state_dict = {k: v.clone() for k, v in model.state_dict().items()}
    marker = str(tmp / 'command_ran')
    hostile = str(tmp / 'hostile.pth')
    meta = dict(
        epoch=1,
        iter=3,
        dataset_meta=dict(classes=CXR_CLASSES, palette=CXR_PALETTE))
    torch.save(
        dict(
            meta=dict(meta, note=RunsACommand(marker)), state_dict=state_dict),
        hostile)
    honest = str(tmp / 'honest.pth')
    torch.save(dict(meta=meta, state_dict=state_dict), honest)
    image = sorted(
        glob.glob(
            osp.join(tiny_data['data_root'], 'VOC2007', 'JPEGImages',
                     '*.png')))[0]
    return dict(
        tmp=tmp,
        config=config,
        marker=marker,
        hostile=hostile,
        honest=honest,
        image=image)


def _load_from(s, work_dir):
    train_detector(
        s['config'],
        work_dir=work_dir,
        cfg_options={'load_from': s['hostile']})


def _resume_path(s, work_dir):
    train_detector(s['config'], work_dir=work_dir, resume=s['hostile'])


def _resume_auto(s, work_dir):
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(s['hostile'])
    train_detector(s['config'], work_dir=work_dir, resume='auto')


def _test_tool(s, work_dir):
    evaluate_checkpoint(s['config'], s['hostile'], work_dir=work_dir)


def _infer_tool(s, work_dir):
    run_inference(s['config'], s['hostile'], [s['image']], work_dir)


@pytest.mark.parametrize(
    'load', [_load_from, _resume_path, _resume_auto, _test_tool, _infer_tool],
    ids=[
        'train-load_from', 'train-resume-path', 'train-resume-auto', 'test',
        'infer'
    ])
def test_every_loading_path_refuses_and_runs_nothing(setting, load):
    work_dir = str(setting['tmp'] / load.__name__)
    with pytest.raises(UnsafeCheckpointError) as info:
        load(setting, work_dir)
    message = str(info.value)
    assert setting['hostile'] in message
    assert "'posix.system'" in message or "'os.system'" in message
    assert 'allow-list' in message
    assert not osp.exists(setting['marker'])
    # refused before anything was trained or predicted
    assert not glob.glob(osp.join(work_dir, 'epoch_*.pth'))
    assert not osp.exists(osp.join(work_dir, 'predictions.json'))


def test_the_same_checkpoint_without_the_object_loads(setting):
    out_dir = str(setting['tmp'] / 'honest')
    path = run_inference(setting['config'], setting['honest'],
                         [setting['image']], out_dir)['out_file']
    with open(path) as f:
        assert len(json.load(f)['images']) == 1
    assert not osp.exists(setting['marker'])
