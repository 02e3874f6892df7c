# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A fake but mmengine-shaped work dir for the plotting tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cxr_mmdet.classes import CXR_CLASSES, class_key
from cxr_mmdet.visualization.roc_json import save_roc_json


def train_line(epoch: int, it: int, loss_cls: float, loss_bbox: float):
    """A training line as mmengine's LocalVisBackend writes it."""
    return dict(
        lr=1e-4,
        data_time=0.01,
        loss=loss_cls + loss_bbox,
        loss_cls=loss_cls,
        loss_bbox=loss_bbox,
        time=0.3,
        epoch=epoch,
        iter=it,
        memory=120,
        step=it)


def val_line(epoch: int, value: float, classwise: bool = False):
    """A validation line (metrics, step = epoch)."""
    line = {
        'coco/bbox_mAP': value / 2,
        'coco/bbox_mAP_50': value,
        'coco/bbox_mAP_75': value / 3,
        'pascal_voc/mAP': value * 1.1,
        'pascal_voc/AP50': value,
        'cxr/mAUC': 0.5 + value / 2,
        'cxr/FROC': value / 1.5,
        'step': epoch
    }
    for i, name in enumerate(CXR_CLASSES):
        line[f'cxr/AUC_{class_key(name)}'] = 0.6 + 0.05 * i
        if classwise:
            line[f'coco/{name}_precision'] = 0.1 * (i + 1)
    return line


def write_jsonl(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) +
                    '\n')


def roc_record(stage: str, epoch: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    classes = {}
    for i, name in enumerate(CXR_CLASSES[:5]):
        fpr = np.r_[0, np.sort(rng.random(8)), 1]
        tpr = np.minimum(1, np.r_[0, np.sort(rng.random(8)) + 0.1 * i, 1])
        tpr = np.maximum.accumulate(tpr)
        classes[name] = dict(
            fpr=fpr,
            tpr=tpr,
            thresholds=np.r_[np.inf, np.linspace(1, 0, 9)],
            auc=float(np.trapezoid(tpr, fpr)),
            num_pos=5 + i,
            num_neg=20)
    return dict(
        stage=stage,
        epoch=epoch,
        classes=classes,
        missing={CXR_CLASSES[5]: dict(num_pos=0, num_neg=25)},
        metrics={'cxr/mAUC': 0.7})


@pytest.fixture
def jsonl_writer():
    """The JSON-lines writer, for tests that write their own scalars."""
    return write_jsonl


@pytest.fixture
def fake_work_dir(tmp_path):
    """A work dir with two runs (the second resumed at epoch 3), a
    truncated last line, checkpoints at 2 and 4 and the best at 3, and two
    ROC JSONs. Returns (work_dir, expected) with the numbers written."""
    work_dir = tmp_path / 'work'
    run1 = [
        train_line(1, 1, 4.0, 2.0),
        train_line(1, 2, 3.0, 2.0),
        val_line(1, 0.1),
        train_line(2, 3, 2.0, 1.0),
        train_line(2, 4, 2.0, 1.0),
        val_line(2, 0.2)
    ]
    # a restarted epoch 3 that the second run redoes
    run1 += [train_line(3, 5, 9.0, 9.0)]
    run2 = [
        train_line(3, 5, 1.0, 1.0),
        train_line(3, 6, 1.0, 0.5),
        val_line(3, 0.4),
        train_line(4, 7, 0.5, 0.5),
        train_line(4, 8, 0.5, 0.5),
        val_line(4, 0.5, classwise=True), '{"loss": 1.0, "epo'
    ]
    write_jsonl(work_dir / '20260101_000000/vis_data/scalars.json', run1)
    write_jsonl(work_dir / '20260102_000000/vis_data/scalars.json', run2)
    for name in ('epoch_2.pth', 'epoch_4.pth',
                 'best_coco_bbox_mAP_epoch_3.pth', 'last_checkpoint'):
        (work_dir / name).write_bytes(b'')
    save_roc_json(roc_record('val', 3, seed=1), work_dir / 'roc/val_3.json')
    save_roc_json(roc_record('val', 4, seed=2), work_dir / 'roc/val_4.json')
    expected = dict(
        epochs=[1, 2, 3, 4],
        loss=[5.5, 3.0, 1.75, 1.0],
        loss_cls=[3.5, 2.0, 1.0, 0.5],
        ckpt_epochs=[2, 3, 4],
        map50=[0.1, 0.2, 0.4, 0.5],
    )
    return work_dir, expected
