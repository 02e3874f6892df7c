# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The data workloads: the training dataloader on a synthetic VOC tree,
image conversion, and synthetic predictions through the evaluators."""
from __future__ import annotations


import numpy as np
import pytest
from benchmarking.workloads import (benchmark_data_pipeline,
                                    benchmark_evaluation,
                                    build_train_dataloader, time_dataloader,
                                    time_image_conversion, write_synthetic_voc)
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.testing import get_config_path, synthetic_eval_samples

CONFIG = get_config_path('ssd/ssd300_vgg16_1xb64-300e_cxr6.py')


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


def test_time_image_conversion_converts_png_and_dicom():
    out = time_image_conversion(
        png_images=1, dicom_images=1, dicom_shape=(64, 48), workers=(1, ))
    assert out['workers_1']['images'] == 2
    assert out['workers_1']['images_per_s'] > 0
    assert 'DICOM 48x64 12-bit' in out['images']


def test_samples_look_like_the_test_pipeline_output():
    samples = synthetic_eval_samples(20, dets_per_image=30, seed=2)
    assert len(samples) == 20
    negatives = 0
    for s in samples:
        meta = s.metainfo
        for key in ('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor', 'instances', 'img_labels'):
            assert key in meta
        labels = s.gt_instances.labels.numpy()
        assert len(meta['instances']) == len(labels)
        flags = np.zeros(6, int)
        flags[labels] = 1
        assert meta['img_labels'] == flags.tolist()
        negatives += len(labels) == 0
        pred = s.pred_instances
        assert len(pred.bboxes) == 30
        assert (pred.bboxes[:, 2:] > pred.bboxes[:, :2]).all()
        assert (np.diff(pred.scores.numpy()) <= 0).all()
    assert 0 < negatives < 20


def test_benchmark_evaluation_runs_all_three_metrics():
    out = benchmark_evaluation(CONFIG, num_images=40, dets_per_image=20)
    names = out['metric_names']
    assert 'coco/bbox_mAP' in names
    assert 'pascal_voc/mAP' in names
    assert 'cxr/mAUC' in names and 'cxr/FROC' in names
    assert out['total_s'] == out['process_s'] + out['evaluate_s'] > 0
    assert out['images_per_s'] == 40 / out['total_s']
