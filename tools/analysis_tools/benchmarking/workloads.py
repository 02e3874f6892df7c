# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The data workloads: the config's training data pipeline on a synthetic
VOC tree, data preparation (real tables, image conversion) and the
config's evaluators over synthetic predictions."""
from __future__ import annotations

import copy
import os
import os.path as osp
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.testing import synthetic_eval_samples

from .detectors import load_config


def write_synthetic_voc(root: str,
                        num_images: int = 64,
                        size: int = 300,
                        split: str = 'trainval',
                        seed: int = 0) -> list[str]:
    """Write ``root/VOC2007`` as ``prepare_data.py`` does: 8-bit
    grayscale ``size x size`` PNG radiographs with 1-3 lesions each, VOC
    XML (``cxr_mmdet.data_prep.voc_writer``) and ``ImageSets/Main/<split>
    .txt``.

    Returns:
        list[str]: The image ids written.
    """
    from PIL import Image

    from cxr_mmdet.data_prep.voc_writer import (write_image_sets,
                                                write_voc_annotation)
    from cxr_mmdet.demo_data.radiographs import (Lesion, render_radiograph,
                                                 to_uint8)
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
    # the configs train on train.txt; trainval.txt is its VOC twin
    sets = {split: ids, 'train': ids} if split == 'trainval' else {split: ids}
    write_image_sets(osp.join(voc, 'ImageSets', 'Main'), sets)
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


def build_evaluator(config: Any):
    """The config's ``test_evaluator`` (CocoMetric, VOCMetric@0.4,
    CXRROCMetric) with the six classes as ``dataset_meta``."""
    from mmengine.evaluator import Evaluator
    cfg = load_config(config)
    evaluator = Evaluator(copy.deepcopy(cfg.test_evaluator))
    evaluator.dataset_meta = dict(classes=CXR_CLASSES, palette=CXR_PALETTE)
    return evaluator


def benchmark_evaluation(config: Any,
                         num_images: int = 1000,
                         dets_per_image: int = 200,
                         batch_size: int = 1) -> dict:
    """Seconds the config's evaluators take over ``num_images`` images.

    ``process`` is fed ``batch_size`` samples at a time (the config's test
    batch size is 1), then ``evaluate`` computes every metric, as mmengine's
    test loop does. The logger is quieted to warnings meanwhile (COCO's
    summary tables are not timed output).

    Returns:
        dict: ``num_images``, ``dets_per_image``, ``process_s``,
        ``evaluate_s``, ``total_s``, ``images_per_s``, ``metrics`` (the
        number of figures computed) and ``metric_names`` (their keys).
    """
    import logging

    from mmengine.logging import MMLogger
    samples = synthetic_eval_samples(num_images, dets_per_image)
    evaluator = build_evaluator(config)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        start = time.perf_counter()
        for i in range(0, len(samples), batch_size):
            evaluator.process(samples[i:i + batch_size])
        process_s = time.perf_counter() - start
        start = time.perf_counter()
        metrics = evaluator.evaluate(len(samples))
        evaluate_s = time.perf_counter() - start
    finally:
        logger.setLevel(level)
    total = process_s + evaluate_s
    return dict(
        num_images=num_images,
        dets_per_image=dets_per_image,
        process_s=process_s,
        evaluate_s=evaluate_s,
        total_s=total,
        images_per_s=num_images / total,
        metrics=len(metrics),
        metric_names=sorted(metrics))


def time_tables(repeat: int = 3) -> dict:
    """Best-of-``repeat`` seconds of each table stage on the real NIH box
    list, NIH ``Data_Entry`` and VinBig table (from ``torchxrayvision``),
    and of the WBF fusion alone. No images ship with the tables: the sizes
    are :func:`cxr_mmdet.testing.assumed_sizes`.

    Returns:
        dict: ``read_tables``, ``select_rows``, ``fit_fuse_balance_split``,
        ``total`` and ``fusion`` seconds, ``fusion_rows`` and ``repeat``.
    """
    from cxr_mmdet.data_prep.fusion import fuse_radiologist_boxes
    from cxr_mmdet.data_prep.label_map import (apply_label_map,
                                               default_label_maps)
    from cxr_mmdet.data_prep.pipeline import build_tables, select_rows
    from cxr_mmdet.data_prep.tables import (read_nih_boxes,
                                            read_nih_patient_ids,
                                            read_vinbig_rows)
    from cxr_mmdet.demo_data.xrv_tables import (NIH_BBOX_TABLE,
                                                NIH_DATA_ENTRY_TABLE,
                                                VINBIG_TABLE, find_xrv_table)
    from cxr_mmdet.testing import assumed_sizes
    if repeat < 1:
        raise ValueError(f'repeat must be >= 1, got {repeat!r}')
    best: dict = {}
    for _ in range(repeat):
        t = {}
        start = time.perf_counter()
        patients = read_nih_patient_ids(find_xrv_table(NIH_DATA_ENTRY_TABLE))
        nih, nih_drops = read_nih_boxes(
            find_xrv_table(NIH_BBOX_TABLE), patients)
        vinbig, vin_drops = read_vinbig_rows(find_xrv_table(VINBIG_TABLE))
        t['read_tables'] = time.perf_counter() - start
        tables = {'nih': nih, 'vinbig': vinbig}
        sizes = assumed_sizes(tables)
        mark = time.perf_counter()
        selected = select_rows(tables, None, {
            'nih': nih_drops,
            'vinbig': vin_drops
        })
        t['select_rows'] = time.perf_counter() - mark
        mark = time.perf_counter()
        build_tables(selected, sizes)
        t['fit_fuse_balance_split'] = time.perf_counter() - mark
        t['total'] = time.perf_counter() - start
        boxes, _ = apply_label_map(vinbig[vinbig['label'] != 'No finding'],
                                   default_label_maps()['vinbig'])
        mark = time.perf_counter()
        fuse_radiologist_boxes(boxes, sizes)
        t['fusion'] = time.perf_counter() - mark
        best = {k: min(v, best.get(k, np.inf)) for k, v in t.items()}
    return dict(best, fusion_rows=len(boxes), repeat=repeat)


def write_conversion_inputs(folder: Path, n_png: int, n_dicom: int,
                            dicom_shape: tuple[int, int]) -> list[Path]:
    """NIH-like 1024 x 1024 8-bit PNGs and VinBig-like 12-bit
    MONOCHROME1 DICOMs of ``dicom_shape`` (H, W) with a VOI window."""
    from cxr_mmdet.testing import write_dicom, write_png
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:1024, 0:1024]
    base = (96 + 64 * np.sin(xx / 90.0) * np.cos(yy / 70.0)).astype(np.uint8)
    paths = [
        write_png(folder / f'nih_{i:03d}.png',
                  base + rng.integers(0, 32, base.shape, dtype=np.uint8))
        for i in range(n_png)
    ]
    paths += [
        write_dicom(
            folder / f'vinbig_{i:03d}.dicom',
            rng.integers(200, 3800, dicom_shape).astype('<u2'),
            'MONOCHROME1', (2000, 3000),
            bits_stored=12) for i in range(n_dicom)
    ]
    return paths


def time_image_conversion(png_images: int = 24,
                          dicom_images: int = 8,
                          dicom_shape: tuple[int, int] = (2400, 2000),
                          workers: tuple[int, ...] = (1, 2)) -> dict:
    """Images/s of the conversion to 300 x 300 PNG at each worker count,
    on :func:`write_conversion_inputs` in a temporary folder.

    Returns:
        dict: per worker count ``workers_<n>`` (``images``, ``seconds``,
        ``images_per_s``) and ``images`` (what was converted, in words).
    """
    from cxr_mmdet.data_prep.image_io import ConversionJob, convert_images
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = write_conversion_inputs(tmp / 'src', png_images,
                                        dicom_images, tuple(dicom_shape))
        for n in workers:
            dst = tmp / f'out_{n}'
            dst.mkdir()
            jobs = [
                ConversionJob(p.stem, str(p), str(dst / f'{p.stem}.png'), 300)
                for p in paths
            ]
            start = time.perf_counter()
            results = convert_images(jobs, n, progress=False)
            seconds = time.perf_counter() - start
            errors = [r.error for r in results if r.error]
            if errors:
                raise RuntimeError(f'conversion failed: {errors[:3]!r}')
            out[f'workers_{n}'] = dict(
                images=len(jobs),
                seconds=seconds,
                images_per_s=len(jobs) / seconds)
    out['images'] = (f'{png_images} PNG 1024x1024 8-bit + {dicom_images} '
                     f'DICOM {dicom_shape[1]}x{dicom_shape[0]} 12-bit '
                     'MONOCHROME1 -> 300x300')
    return out
