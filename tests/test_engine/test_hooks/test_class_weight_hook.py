# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmdet.datasets import BaseDetDataset
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.engine.hooks.class_weight_hook import ClassWeightHook
from cxr_mmdet.models.dense_heads.class_weighted_ssd_head import (
    ClassWeightedSSDHead, inverse_frequency_weights)
from cxr_mmdet.testing import get_detector_cfg, toy_runner

NUM_CLASSES = len(CXR_CLASSES)


class TinyDetDataset(BaseDetDataset):
    """Serves images written to disk with the given instance labels."""

    METAINFO = dict(classes=CXR_CLASSES)

    def __init__(self, images: list[tuple[str, list[int]]], **kwargs):
        self._images = images
        super().__init__(**kwargs)

    def load_data_list(self) -> list[dict]:
        return [
            dict(
                img_path=path,
                img_id=i,
                height=64,
                width=64,
                instances=[
                    dict(
                        bbox=[4. + 2 * j, 6., 40. + 2 * j, 50.],
                        bbox_label=label,
                        ignore_flag=0) for j, label in enumerate(labels)
                ]) for i, (path, labels) in enumerate(self._images)
        ]


def write_images(folder: Path, labels: list[list[int]]) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = []
    for i, image_labels in enumerate(labels):
        path = folder / f'img{i}.png'
        Image.fromarray(rng.integers(0, 255, (64, 64, 3),
                                     dtype=np.uint8)).save(path)
        images.append((str(path), image_labels))
    return images


SSDLITE = get_detector_cfg(
    'ssd/ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py')
SSDLITE.test_cfg.update(nms_pre=100, max_per_img=20)

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    # Smaller than SSDLite's 320 to keep the test fast; the head does not
    # care.
    dict(type='Resize', scale=(160, 160), keep_ratio=False),
    dict(type='PackDetInputs')
]

# Instances per image -> counts [3, 1, 0, 0, 0, 2] (classes 2-4 absent).
LABELS_A = [[0, 0], [0, 1], [5], [5]]
COUNTS_A = [3, 1, 0, 0, 0, 2]
# Other data: counts [1, 3, 1, 0, 0, 1].
LABELS_B = [[1, 1], [1, 0], [2], [5]]
COUNTS_B = [1, 3, 1, 0, 0, 1]


def make_runner(work_dir: Path,
                images: list,
                max_epochs: int = 1,
                class_weight='inverse_frequency',
                **kwargs) -> Runner:
    init_default_scope('mmdet')
    model = copy.deepcopy(SSDLITE)
    model['bbox_head']['class_weight'] = class_weight
    return toy_runner(
        work_dir,
        model,
        TinyDetDataset(images, pipeline=PIPELINE),
        max_epochs,
        lr=1e-4,
        seed=None,
        loader=dict(
            shuffle=False, batch_size=2, collate_fn='pseudo_collate'),
        custom_hooks=[dict(type='ClassWeightHook')],
        default_scope='mmdet',
        **kwargs)


def head_of(runner: Runner) -> ClassWeightedSSDHead:
    return runner.model.bbox_head


def read_log(work_dir: Path) -> str:
    return '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))


def load_meta(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    """One epoch of SSDLite training on LABELS_A (2 iterations)."""
    root = tmp_path_factory.mktemp('class_weight_hook')
    images_a = write_images(root / 'data_a', LABELS_A)
    images_b = write_images(root / 'data_b', LABELS_B)
    work_dir = root / 'run'
    with pytest.warns(UserWarning, match=r'Classes \[2, 3, 4\]'):
        runner = make_runner(work_dir, images_a)
        runner.train()
    return SimpleNamespace(
        root=root,
        work_dir=work_dir,
        images_a=images_a,
        images_b=images_b,
        weights=head_of(runner).foreground_class_weight)


def test_fills_inverse_frequency_weights_before_training(trained_run):
    expected = inverse_frequency_weights(COUNTS_A)
    np.testing.assert_allclose(trained_run.weights, expected, rtol=1e-6)
    assert len(set(round(w, 6) for w in trained_run.weights)) > 1
    record = json.loads(
        (trained_run.work_dir / 'class_weights.json').read_text())
    assert record['class_counts'] == COUNTS_A
    # a uniform sampler: the head sees the raw counts
    assert record['seen_class_counts'] == COUNTS_A
    assert record['sampler'] == 'DefaultSampler'
    assert record['classes'] == list(CXR_CLASSES)
    assert record['source'] == 'inverse_frequency'
    assert record['resumed'] is False
    np.testing.assert_allclose(record['class_weights'], expected, rtol=1e-6)
    log = read_log(trained_run.work_dir)
    assert 'Class counts, counts seen per epoch under DefaultSampler' in log
    assert 'Infiltration: count 2, seen 2.0' in log


def test_weights_and_counts_in_checkpoint(trained_run):
    ckpt = load_meta(trained_run.work_dir / 'epoch_1.pth')
    assert ckpt['meta']['class_counts'] == COUNTS_A
    np.testing.assert_allclose(ckpt['meta']['class_weights'],
                               trained_run.weights)
    buffer = ckpt['state_dict']['bbox_head.class_weight']
    np.testing.assert_allclose(buffer[:-1].numpy(), trained_run.weights)
    assert buffer[-1].item() == 1.0


def test_resume_keeps_checkpoint_weights(trained_run, tmp_path):
    # Resume on other data: the run keeps the weights it started with.
    work_dir = tmp_path / 'resumed'
    runner = make_runner(
        work_dir,
        trained_run.images_b,
        max_epochs=2,
        resume=True,
        load_from=str(trained_run.work_dir / 'epoch_1.pth'))
    runner.train()
    assert runner.iter == 4
    np.testing.assert_allclose(
        head_of(runner).foreground_class_weight, trained_run.weights)
    record = json.loads((work_dir / 'class_weights.json').read_text())
    assert record['source'] == 'checkpoint' and record['resumed'] is True
    assert record['class_counts'] == COUNTS_B
    assert 'keeping the class weights restored' in read_log(work_dir)
    meta = load_meta(work_dir / 'epoch_2.pth')['meta']
    np.testing.assert_allclose(meta['class_weights'], trained_run.weights)


def test_load_from_recomputes_for_new_data(trained_run, tmp_path):
    runner = make_runner(
        tmp_path / 'finetune',
        trained_run.images_b,
        load_from=str(trained_run.work_dir / 'epoch_1.pth'))
    with pytest.warns(UserWarning, match=r'Classes \[3, 4\]'):
        runner.train()
    np.testing.assert_allclose(
        head_of(runner).foreground_class_weight,
        inverse_frequency_weights(COUNTS_B),
        rtol=1e-6)


def test_fixed_weights_are_kept_and_recorded(trained_run, tmp_path):
    fixed = [1.0, 2.0, 3.0, 0.5, 1.0, 1.5]
    runner = make_runner(
        tmp_path / 'fixed', trained_run.images_a, class_weight=fixed)
    hook = ClassWeightHook()
    hook.before_train(runner)
    assert head_of(runner).foreground_class_weight == fixed
    record = json.loads(
        (tmp_path / 'fixed' / 'class_weights.json').read_text())
    assert record['source'] == 'fixed'
    assert record['class_weights'] == fixed
    assert record['class_counts'] == COUNTS_A
    checkpoint = dict(meta=dict(epoch=1))
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta'] == dict(
        epoch=1,
        class_weights=fixed,
        class_counts=COUNTS_A,
        seen_class_counts=COUNTS_A)


def test_finds_the_head_inside_a_ddp_wrapper(tmp_path):
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    init_default_scope('mmdet')
    from mmdet.registry import MODELS
    model = MODELS.build(copy.deepcopy(SSDLITE))
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "pg"}', rank=0, world_size=1)
    try:
        wrapped = MMDistributedDataParallel(module=model)
        heads = ClassWeightHook._heads(SimpleNamespace(model=wrapped))
    finally:
        dist.destroy_process_group()
    assert heads == [model.bbox_head]


def test_file_name_must_be_plain():
    with pytest.raises(ValueError, match='plain file name'):
        ClassWeightHook(file_name='../x.json')
