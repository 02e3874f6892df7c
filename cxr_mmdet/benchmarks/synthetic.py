# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fixed synthetic inputs for the benchmarks: one batch, two formats.

The same pixels and boxes are handed to the plugin's detector (mmdet's
``inputs`` + ``DetDataSample`` with ``gt_instances``, as ``PackDetInputs``
makes them) and to torchvision's SSD (float images and target dicts), so
both do the same work. The images are grayscale radiographs of
:mod:`cxr_mmdet.demo_data.radiographs` repeated over three channels, as
``CXRLoadImageFromFile`` loads the prepared 8-bit PNGs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxr_mmdet.classes import CXR_CLASSES


@dataclass(frozen=True)
class SyntheticBatch:
    """One batch. ``images`` (B, 3, H, W) uint8; per image ``boxes``
    (K, 4) float32 ``x1, y1, x2, y2`` pixels and ``labels`` (K,) int64 in
    ``[0, num_classes)``."""
    images: np.ndarray
    boxes: list[np.ndarray]
    labels: list[np.ndarray]

    @property
    def batch_size(self) -> int:
        """Number of images."""
        return int(self.images.shape[0])


def synthetic_batch(batch_size: int = 8,
                    size: int = 300,
                    max_boxes: int = 3,
                    seed: int = 0) -> SyntheticBatch:
    """Render ``batch_size`` radiographs with 1 to ``max_boxes`` lesions.

    Args:
        batch_size: Images in the batch.
        size: Image side in pixels.
        max_boxes: Most ground-truth boxes of an image.
        seed: Seed of the rendering and of the boxes.

    Returns:
        SyntheticBatch: The images and their ground truth.
    """
    from cxr_mmdet.demo_data.radiographs import (Lesion, render_radiograph, to_uint8)
    if batch_size < 1 or size < 32 or max_boxes < 1:
        raise ValueError('need batch_size >= 1, size >= 32, max_boxes >= 1,'
                         f' got {batch_size!r}, {size!r}, {max_boxes!r}')
    rng = np.random.default_rng(seed)
    images, all_boxes, all_labels = [], [], []
    for _ in range(batch_size):
        count = int(rng.integers(1, max_boxes + 1))
        labels = rng.integers(0, len(CXR_CLASSES), count)
        wh = rng.uniform(0.1 * size, 0.4 * size, (count, 2))
        xy = rng.uniform(0, 1, (count, 2)) * (size - 1 - wh)
        boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
        lesions = [
            Lesion(CXR_CLASSES[int(c)], tuple(float(v) for v in box))
            for c, box in zip(labels, boxes)
        ]
        gray = to_uint8(render_radiograph(size, size, lesions, rng))
        images.append(np.repeat(gray[None], 3, axis=0))
        all_boxes.append(boxes)
        all_labels.append(labels.astype(np.int64))
    return SyntheticBatch(np.stack(images), all_boxes, all_labels)


def mmdet_inputs(batch: SyntheticBatch) -> dict:
    """The batch as mmdet's train/test dataloader yields it.

    Returns:
        dict: ``inputs`` (list of (3, H, W) uint8 tensors, BGR = gray) and
        ``data_samples`` (``DetDataSample`` with ``gt_instances`` of
        ``HorizontalBoxes`` and labels, and the metainfo that
        ``PackDetInputs`` and the test pipeline set).
    """
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    height, width = batch.images.shape[2:]
    inputs, samples = [], []
    for i in range(batch.batch_size):
        inputs.append(torch.from_numpy(batch.images[i].copy()))
        sample = DetDataSample(
            metainfo=dict(
                img_id=f'synthetic_{i:04d}',
                img_path=f'synthetic_{i:04d}.png',
                ori_shape=(height, width),
                img_shape=(height, width),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        gt = InstanceData()
        gt.bboxes = HorizontalBoxes(torch.from_numpy(batch.boxes[i]))
        gt.labels = torch.from_numpy(batch.labels[i])
        sample.gt_instances = gt
        ignored = InstanceData()
        ignored.bboxes = HorizontalBoxes(torch.zeros(0, 4))
        ignored.labels = torch.zeros(0, dtype=torch.int64)
        sample.ignored_instances = ignored
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def torchvision_inputs(batch: SyntheticBatch) -> tuple[list, list[dict]]:
    """The batch as torchvision's detection models take it.

    Returns:
        tuple: images (list of (3, H, W) uint8 tensors; the caller turns
        them into floats in [0, 1] inside the timed step, as mmdet's data
        preprocessor does) and targets (``boxes`` float32, ``labels``
        int64 in ``[1, num_classes]``: torchvision's 0 is background).
    """
    import torch
    images = [
        torch.from_numpy(batch.images[i].copy())
        for i in range(batch.batch_size)
    ]
    targets = [
        dict(
            boxes=torch.from_numpy(boxes.copy()),
            labels=torch.from_numpy(labels + 1))
        for boxes, labels in zip(batch.boxes, batch.labels)
    ]
    return images, targets
