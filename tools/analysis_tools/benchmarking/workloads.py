# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Images/s of the config's training data pipeline on a synthetic tree."""
from __future__ import annotations

import copy
import os
import os.path as osp
import time
from typing import Any

import numpy as np

from cxr_mmdet.classes import CXR_CLASSES


def write_synthetic_voc(root: str,
                        num_images: int = 64,
                        size: int = 300,
                        split: str = 'trainval',
                        seed: int = 0) -> list[str]:
    """Write ``root/VOC2007`` as ``tools/prepare_data.py`` does: 8-bit
    grayscale ``size x size`` PNG radiographs with 1-3 lesions each, VOC
    XML (``cxr_mmdet.data_prep.voc_writer``) and ``ImageSets/Main/<split>
    .txt``.

    Returns:
        list[str]: The image ids written.
    """
    from PIL import Image

    from cxr_mmdet.data_prep.voc_writer import (write_image_sets,
                                                write_voc_annotation)
    from cxr_mmdet.demo_data.radiographs import (Lesion, render_radiograph, to_uint8)
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images!r}')
    rng = np.random.default_rng(seed)
    voc = osp.join(root, 'VOC2007')
    for sub in ('Annotations', 'JPEGImages'):
        os.makedirs(osp.join(voc, sub), exist_ok=True)
    ids = []
    for k in range(num_images):
        img_id = f'synthetic_{k:05d}'
        count = int(rng.integers(1, 4))
        objects, lesions = [], []
        for _ in range(count):
            name = CXR_CLASSES[int(rng.integers(0, len(CXR_CLASSES)))]
            w, h = rng.uniform(0.1 * size, 0.4 * size, 2)
            x0 = float(rng.uniform(0, size - 1 - w))
            y0 = float(rng.uniform(0, size - 1 - h))
            box = (x0, y0, x0 + float(w), y0 + float(h))
            objects.append((name, *box))
            lesions.append(Lesion(name, box))
        pixels = to_uint8(render_radiograph(size, size, lesions, rng))
        filename = f'{img_id}.png'
        Image.fromarray(pixels).save(osp.join(voc, 'JPEGImages', filename))
        write_voc_annotation(
            osp.join(voc, 'Annotations', f'{img_id}.xml'), filename, size,
            size, objects)
        ids.append(img_id)
    write_image_sets(osp.join(voc, 'ImageSets', 'Main'), {split: ids})
    return ids


def build_train_dataloader(config: Any,
                           data_root: str,
                           batch_size: int | None = None,
                           num_workers: int | None = None,
                           seed: int = 0):
    """The config's ``train_dataloader`` on ``data_root``, built by
    ``mmengine.runner.Runner.build_dataloader`` (dataset, sampler,
    workers and collate exactly as training builds them).

    Args:
        config: Config path or ``Config``.
        data_root: The ``VOCdevkit`` folder holding ``VOC2007``.
        batch_size, num_workers: Overrides (None keeps the config's).
        seed: Seed of the sampler and the workers.
    """
    from mmengine.runner import Runner

    from .detectors import load_config
    cfg = load_config(config)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.dataset.data_root = data_root
    if batch_size is not None:
        loader_cfg.batch_size = batch_size
    if num_workers is not None:
        loader_cfg.num_workers = num_workers
        if num_workers == 0:
            loader_cfg.persistent_workers = False
    return Runner.build_dataloader(loader_cfg, seed=seed)


def time_dataloader(loader: Any, batches: int = 20, warmup: int = 2) -> dict:
    """Images/s of a dataloader after ``warmup`` batches (worker start-up
    and the first prefetch). Epochs are chained when one ends.

    Returns:
        dict: ``images``, ``seconds``, ``images_per_s`` (steady state),
        ``first_batch_s`` (start-up to the first batch).
    """
    if batches < 1 or warmup < 1:
        raise ValueError(f'need batches >= 1 and warmup >= 1, got '
                         f'{batches!r} and {warmup!r}')
    epoch = 0

    def endless():
        nonlocal epoch
        while True:
            sampler = getattr(loader, 'sampler', None)
            if hasattr(sampler, 'set_epoch'):
                sampler.set_epoch(epoch)
            yield from loader
            epoch += 1

    stream = endless()
    start = time.perf_counter()
    next(stream)
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        next(stream)
    images = 0
    start = time.perf_counter()
    for _ in range(batches):
        batch = next(stream)
        images += len(batch['inputs'])
    seconds = time.perf_counter() - start
    stream.close()
    return dict(
        images=images,
        seconds=seconds,
        images_per_s=images / seconds,
        first_batch_s=first)


def benchmark_data_pipeline(config: Any,
                            work_dir: str,
                            num_images: int = 64,
                            batch_size: int = 8,
                            batches: int = 20,
                            warmup: int = 2,
                            num_workers: int | None = None,
                            consumption: float | None = None) -> dict:
    """PNG decode + the config's training transforms + collate, images/s.

    Args:
        config: Config path or ``Config``.
        work_dir: Empty folder for the synthetic VOC tree.
        num_images: Distinct images written (epochs repeat them).
        batch_size: Batch size (the training benchmark's).
        batches, warmup: Timed and untimed batches.
        num_workers: None keeps the config's ``num_workers``.
        consumption: The model's training images/s, to compare with.

    Returns:
        dict: :func:`time_dataloader`'s figures, ``num_workers``,
        ``batch_size``, ``num_images`` and, with ``consumption``,
        ``model_images_per_s`` and ``ratio`` (pipeline over model).
    """
    data_root = osp.join(work_dir, 'VOCdevkit')
    write_synthetic_voc(data_root, num_images)
    loader = build_train_dataloader(config, data_root, batch_size, num_workers)
    try:
        out = time_dataloader(loader, batches, warmup)
    finally:
        iterator = getattr(loader, '_iterator', None)
        if iterator is not None and hasattr(iterator, '_shutdown_workers'):
            iterator._shutdown_workers()
    out.update(
        num_workers=loader.num_workers,
        batch_size=loader.batch_size,
        num_images=num_images)
    if consumption:
        out['model_images_per_s'] = consumption
        out['ratio'] = out['images_per_s'] / consumption
    return out
