# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""What each training image holds, as the sampler and the class weights
read it: the classes it has boxes of, and its boxes per class."""
from __future__ import annotations

from typing import Any

import numpy as np


def image_labels_from_dataset(dataset: Any,
                              num_classes: int | None = None) -> np.ndarray:
    """Read, per image, the 0/1 labels of the classes it has boxes of.

    Uses ``dataset.get_data_info(i)['img_labels']`` when present (a 0/1
    list of length ``num_classes``) minus its ``ignored_labels`` (classes
    labelled on the image without a box, such as NIH findings from
    ``Finding Labels``: nothing of them reaches the head), else the set of
    ``bbox_label`` of the image's non-ignored ``instances``.

    Args:
        dataset: An mmengine-style dataset.
        num_classes (int, optional): Number of classes; defaults to
            ``len(dataset.metainfo['classes'])``.

    Returns:
        np.ndarray: uint8 array of shape (len(dataset), num_classes).
    """
    if num_classes is None:
        classes = getattr(dataset, 'metainfo', {}).get('classes')
        if not classes:
            raise ValueError(
                'num_classes is not given and the dataset '
                f'{type(dataset).__name__} has no metainfo["classes"]')
        num_classes = len(classes)
    labels = np.zeros((len(dataset), num_classes), dtype=np.uint8)
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        img_labels = info.get('img_labels')
        if img_labels is not None:
            row = np.asarray(img_labels)
            if row.shape != (num_classes, ) or not np.isin(row, (0, 1)).all():
                raise ValueError(
                    f'Image {idx} ({info.get("img_path", "?")}): '
                    f'img_labels must be {num_classes} values 0/1, got '
                    f'{img_labels!r}')
            labels[idx] = row
            for label in info.get('ignored_labels') or ():
                if not 0 <= int(label) < num_classes:
                    raise ValueError(
                        f'Image {idx} ({info.get("img_path", "?")}): '
                        f'ignored_labels must lie in [0, {num_classes}), '
                        f'got {label!r}')
                labels[idx, int(label)] = 0
            continue
        labels[idx] = _instance_counts(info, idx, num_classes) > 0
    return labels


def count_instances_per_image(dataset: Any, num_classes: int) -> np.ndarray:
    """Count the non-ignored annotated instances of each class per image.

    Reads ``dataset.get_data_info(i)['instances']`` for every index; each
    instance dict has ``bbox_label`` and ``ignore_flag`` (mmdet's format).
    Instances with ``ignore_flag`` set are not counted: mmdet does not
    train on them either.

    Args:
        dataset: An mmengine-style dataset (``len`` and ``get_data_info``).
        num_classes (int): Number of foreground classes.

    Returns:
        np.ndarray: int64 counts of shape (len(dataset), num_classes).
    """
    counts = np.zeros((len(dataset), num_classes), dtype=np.int64)
    for idx in range(len(dataset)):
        counts[idx] = _instance_counts(
            dataset.get_data_info(idx), idx, num_classes)
    return counts


def _instance_counts(info: dict, idx: int, num_classes: int) -> np.ndarray:
    """(num_classes,) counts of the non-ignored instances of image ``idx``
    (data info ``info``)."""
    counts = np.zeros(num_classes, dtype=np.int64)
    for instance in info.get('instances', []):
        if instance.get('ignore_flag', 0):
            continue
        label = instance['bbox_label']
        if not 0 <= int(label) < num_classes:
            raise ValueError(
                f'Image {idx} ({info.get("img_path", "?")}) has an '
                f'instance with bbox_label {label!r} outside '
                f'[0, {num_classes}).')
        counts[int(label)] += 1
    return counts
