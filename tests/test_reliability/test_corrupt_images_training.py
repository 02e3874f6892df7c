# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A training run whose data holds corrupt images finishes, and its log
names each skipped file."""
from __future__ import annotations

import os.path as osp

from cxr_mmdet.apis import train_detector
from cxr_mmdet.testing import write_voc_tree
from .conftest import read_text, run_logs, write_tiny_config

CORRUPTIONS = {
    'truncated': lambda b: b[:len(b) // 2],
    'zero-byte': lambda b: b'',
    'text': lambda b: b'this is not a PNG\n',
}


def test_training_skips_and_names_corrupt_images(tmp_path):
    data_root = str(tmp_path / 'VOCdevkit')
    # 8 training images with boxes: 4 batches of 2, every index drawn once
    truth = write_voc_tree(
        data_root, num_trainval=8, num_test=2, size=96, num_negatives=0)
    train_ids = sorted(k for k, v in truth.items() if v['split'] == 'trainval')
    corrupt = {}
    for img_id, (kind, damage) in zip(train_ids[1::3], CORRUPTIONS.items()):
        path = osp.join(data_root, 'VOC2007', 'JPEGImages',
                        truth[img_id]['filename'])
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(damage(data))
        corrupt[kind] = path
    config = write_tiny_config(
        str(tmp_path / 'tiny.py'),
        data_root,
        epochs=1,
        sampler="dict(_delete_=True, type='DefaultSampler', shuffle=True)")
    work_dir = str(tmp_path / 'work')
    runner = train_detector(config, work_dir=work_dir)
    assert runner.epoch == 1 and runner.iter == 4
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    (log, ) = run_logs(work_dir)
    lines = [
        line for line in read_text(log).splitlines()
        if 'skipped unreadable image' in line
    ]
    for kind, path in corrupt.items():
        named = [line for line in lines if repr(path) in line]
        assert named, f'{kind} image {path} not named in the log'
    # nothing but the corrupt files was skipped
    assert all(
        any(repr(p) in line for p in corrupt.values()) for line in lines)
