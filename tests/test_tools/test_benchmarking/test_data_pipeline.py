# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The synthetic VOC tree and the config's training dataloader on it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cxr_mmdet.benchmarks.data_pipeline import (benchmark_data_pipeline,
                                                build_train_dataloader,
                                                time_dataloader,
                                                write_synthetic_voc)
from cxr_mmdet.classes import CXR_CLASSES

CONFIG = str(
    Path(__file__).resolve().parents[2] / 'configs' / 'ssd' /
    'ssd300_vgg16_1xb64-300e_cxr6.py')


def test_write_synthetic_voc_is_read_by_the_dataset(tmp_path):
    root = tmp_path / 'VOCdevkit'
    ids = write_synthetic_voc(str(root), num_images=3, size=64)
    voc = root / 'VOC2007'
    assert (voc / 'ImageSets' / 'Main' /
            'trainval.txt').read_text().split() == ids
    with Image.open(voc / 'JPEGImages' / f'{ids[0]}.png') as img:
        assert img.mode == 'L' and img.size == (64, 64)
    loader = build_train_dataloader(
        CONFIG, str(root), batch_size=2, num_workers=0)
    dataset = loader.dataset
    assert len(dataset) == 3
    info = dataset.get_data_info(0)
    assert 1 <= len(info['instances']) <= 3
    for inst in info['instances']:
        x1, y1, x2, y2 = inst['bbox']
        assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
        assert 0 <= inst['bbox_label'] < len(CXR_CLASSES)
        assert info['img_labels'][inst['bbox_label']] == 1


def test_time_dataloader_counts_collated_images(tmp_path):
    root = tmp_path / 'VOCdevkit'
    write_synthetic_voc(str(root), num_images=3, size=300)
    loader = build_train_dataloader(
        CONFIG, str(root), batch_size=2, num_workers=0)
    assert type(loader.sampler).__name__ == 'CXRBalancedSampler'
    batch = next(iter(loader))
    assert len(batch['inputs']) == 2
    assert tuple(batch['inputs'][0].shape) == (3, 300, 300)
    # 3 images, batch 2: epochs chain, each batch counts what it holds
    out = time_dataloader(loader, batches=4, warmup=1)
    assert 4 <= out['images'] <= 8
    assert out['images_per_s'] > 0 and out['seconds'] > 0


def test_benchmark_data_pipeline_compares_with_consumption(tmp_path):
    out = benchmark_data_pipeline(
        CONFIG,
        str(tmp_path),
        num_images=4,
        batch_size=2,
        batches=2,
        warmup=1,
        num_workers=0,
        consumption=2.0)
    assert out['num_workers'] == 0 and out['batch_size'] == 2
    assert out['ratio'] == pytest.approx(out['images_per_s'] / 2.0)
    assert np.isfinite(out['first_batch_s'])


def test_time_dataloader_rejects_no_batches():
    with pytest.raises(ValueError, match='batches'):
        time_dataloader([], batches=0)
