# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A tiny VOC tree written from scratch, as ``tools/dataset_converters/
prepare_data.py`` lays it out."""
from __future__ import annotations

import os
import os.path as osp

import numpy as np

from ..classes import CXR_CLASSES


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
                   seed: int = 0,
                   num_val: int = 0) -> dict:
    """Write ``root/VOC2007`` with PNG images, XML and image sets.

    Each positive image holds 1-2 bright rectangles with float corners, one
    class each; the first ``num_negatives`` images of each split have no
    object. ``trainval.txt`` and ``test.txt`` are written; with
    ``num_val`` the last ``num_val`` trainval images also form ``val.txt``
    and the others ``train.txt`` (the same images and pixels either way);
    without, ``train.txt`` lists the trainval images and ``val.txt`` the
    test ones, so configs reading train, val and test find all three.

    Returns:
        dict: the ground truth written, ``{img_id: dict(split, filename,
        boxes (0-based floats), labels, width, height)}``; ``split`` is
        ``'trainval'`` or ``'test'`` (``'train'``/``'val'`` with
        ``num_val``).
    """
    if not 0 <= num_val <= num_trainval:
        raise ValueError(f'num_val must be in [0, num_trainval], got '
                         f'{num_val!r} of {num_trainval!r}')
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
                label = int(rng.integers(0, len(CXR_CLASSES)))
                w, h = rng.uniform(size * 0.2, size * 0.45, 2)
                x1 = float(rng.uniform(0, size - w - 1))
                y1 = float(rng.uniform(0, size - h - 1))
                box = (x1, y1, x1 + float(w), y1 + float(h))
                img[int(y1):int(box[3]), int(x1):int(box[2])] = 200 + 8 * label
                objects.append((CXR_CLASSES[label], box))
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
        _write_ids(voc, split, ids)
        if not num_val:
            _write_ids(voc, {'trainval': 'train', 'test': 'val'}[split], ids)
        elif split == 'trainval':
            cut = len(ids) - num_val
            for name, part in (('train', ids[:cut]), ('val', ids[cut:])):
                _write_ids(voc, name, part)
                for img_id in part:
                    truth[img_id]['split'] = name
    return truth


def _write_ids(voc: str, split: str, ids: list[str]) -> None:
    with open(osp.join(voc, 'ImageSets', 'Main', f'{split}.txt'), 'w') as f:
        f.write('\n'.join(ids) + '\n')
