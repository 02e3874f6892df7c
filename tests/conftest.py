# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Shared fixtures: tiny VOC trees written from scratch for each test."""
from __future__ import annotations

import os
import os.path as osp
import sys

import numpy as np
import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

CLASSES = ('Cardiomegaly', 'Pleural thickening', 'Pulmonary fibrosis',
           'Pleural effusion', 'Nodule/Mass', 'Infiltration')


def mmdet_config(relative: str) -> str:
    """Path of a config shipped inside the mmdet package (``mmdet::``)."""
    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmdet config not found: {path}')
    return path


def _xml(filename: str, width: int, height: int, objects: list) -> str:
    parts = [
        '<annotation>', '  <folder>VOC2007</folder>',
        f'  <filename>{filename}</filename>',
        f'  <size><width>{width}</width><height>{height}</height>'
        '<depth>3</depth></size>'
    ]
    for name, (x1, y1, x2, y2) in objects:
        # VOC 1-based: every corner + 1
        parts.append(
            f'  <object><name>{name}</name><difficult>0</difficult>'
            f'<bndbox><xmin>{x1 + 1:.4f}</xmin><ymin>{y1 + 1:.4f}</ymin>'
            f'<xmax>{x2 + 1:.4f}</xmax><ymax>{y2 + 1:.4f}</ymax></bndbox>'
            '</object>')
    parts.append('</annotation>')
    return '\n'.join(parts)


def write_voc_tree(root: str,
                   num_trainval: int = 6,
                   num_test: int = 4,
                   size: int = 96,
                   num_negatives: int = 1,
                   seed: int = 0) -> dict:
    """Write ``root/VOC2007`` with PNG images, XML and image sets.

    Each positive image holds 1-2 bright rectangles with float corners, one
    class each; the first ``num_negatives`` images of each split have no
    object. ``train.txt`` lists the ``trainval`` images and ``val.txt``
    the ``test`` ones (the configs read train, val and test). Returns the
    ground truth written: ``{img_id: dict(split, filename, boxes (0-based
    floats), labels, width, height)}``.
    """
    from PIL import Image
    rng = np.random.default_rng(seed)
    voc = osp.join(root, 'VOC2007')
    for sub in ('Annotations', 'ImageSets/Main', 'JPEGImages'):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    truth = {}
    splits = {'trainval': num_trainval, 'test': num_test}
    counter = 0
    for split, count in splits.items():
        ids = []
        for k in range(count):
            img_id = f'img_{counter:04d}'
            counter += 1
            img = rng.integers(20, 60, (size, size, 3), dtype=np.uint8)
            objects, boxes, labels = [], [], []
            n_obj = 0 if k < num_negatives else int(rng.integers(1, 3))
            for _ in range(n_obj):
                label = int(rng.integers(0, len(CLASSES)))
                w, h = rng.uniform(size * 0.2, size * 0.45, 2)
                x1 = float(rng.uniform(0, size - w - 1))
                y1 = float(rng.uniform(0, size - h - 1))
                box = (x1, y1, x1 + float(w), y1 + float(h))
                img[int(y1):int(box[3]), int(x1):int(box[2])] = 200 + 8 * label
                objects.append((CLASSES[label], box))
                boxes.append(box)
                labels.append(label)
            filename = f'{img_id}.png'
            Image.fromarray(img).save(osp.join(voc, 'JPEGImages', filename))
            with open(osp.join(voc, 'Annotations', f'{img_id}.xml'),
                      'w') as f:
                f.write(_xml(filename, size, size, objects))
            truth[img_id] = dict(
                split=split,
                filename=filename,
                boxes=np.round(np.array(boxes, np.float64).reshape(-1, 4), 4),
                labels=np.array(labels, np.int64),
                width=size,
                height=size)
            ids.append(img_id)
        names = {'trainval': ('trainval', 'train'), 'test': ('test', 'val')}
        for name in names[split]:
            with open(osp.join(voc, 'ImageSets', 'Main', f'{name}.txt'),
                      'w') as f:
                f.write('\n'.join(ids) + '\n')
    return truth


@pytest.fixture
def voc_tree(tmp_path):
    """A tiny VOC tree in ``tmp_path/VOCdevkit``: (data_root, truth)."""
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(data_root)
    return data_root, truth


@pytest.fixture(autouse=True)
def _mmdet_default_scope():
    """Build through mmdet's registries in tests that use mmdet.

    Runners of other tests (default_scope='mmengine') change mmengine's
    current scope; mmdet's tools set 'mmdet' the same way.
    """
    if 'mmdet' in sys.modules:
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
    yield
