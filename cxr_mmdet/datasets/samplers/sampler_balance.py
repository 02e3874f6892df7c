# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Measure how evenly a sampler shows the classes of a multi-label dataset."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from mmdet.datasets.samplers import ClassAwareSampler
from mmengine.dataset import DefaultSampler

from ..image_labels import image_labels_from_dataset
from .cxr_balanced_sampler import CXRBalancedSampler


def sampled_class_frequencies(img_labels: np.ndarray,
                              indices: Sequence[int]) -> np.ndarray:
    """Return, per class, the share of drawn images that carry the class.

    Args:
        img_labels (np.ndarray): 0/1 labels of shape (N, num_classes).
        indices (Sequence[int]): Drawn image indices.

    Returns:
        np.ndarray: Shape (num_classes,), float64.

    Examples:
        >>> labels = np.array([[1, 0], [0, 1], [0, 0]])
        >>> sampled_class_frequencies(labels, [0, 0, 1, 2]).tolist()
        [0.5, 0.25]
    """
    drawn = np.asarray(img_labels)[np.asarray(indices, dtype=np.int64)]
    if len(drawn) == 0:
        raise ValueError('indices must not be empty, got '
                         f'{list(indices)!r}')
    return drawn.astype(np.float64).mean(axis=0)


def max_min_ratio(frequencies: Sequence[float]) -> float:
    """Return max / min of class frequencies (``inf`` if a class is never
    drawn): 1 means perfectly balanced.

    Examples:
        >>> max_min_ratio([0.2, 0.1, 0.4])
        4.0
    """
    freqs = np.asarray(frequencies, dtype=np.float64)
    if freqs.size == 0:
        raise ValueError(f'frequencies must not be empty, got {freqs!r}')
    low = freqs.min()
    return float('inf') if low == 0 else float(freqs.max() / low)


def sampler_balance_report(
        dataset: Any,
        seed: int = 0,
        neg_fraction: float = 0.1,
        num_epochs: int = 1,
        num_classes: int | None = None) -> dict[str, dict[str, Any]]:
    """Compare the class balance of three samplers on one dataset.

    Samplers: ``random`` (mmengine ``DefaultSampler``, shuffled: an epoch
    shows the data's own distribution), ``class_aware`` (mmdet
    ``ClassAwareSampler``, needs ``get_cat_ids`` and
    ``metainfo['classes']``) and ``cxr_balanced``
    (:class:`CXRBalancedSampler`). Each runs ``num_epochs`` epochs.

    Args:
        dataset: A dataset both samplers accept.
        seed (int): Seed of every sampler. Defaults to 0.
        neg_fraction (float): ``CXRBalancedSampler``'s negative share.
        num_epochs (int): Epochs drawn per sampler. Defaults to 1.
        num_classes (int, optional): Defaults to the dataset's classes.

    Returns:
        dict: Per sampler name: ``class_frequencies`` (share of drawn
        images with each class), ``max_min_ratio``, ``negative_share``
        (share of drawn images without labels), ``unique_fraction``
        (distinct images drawn / dataset size) and ``num_drawn``.
    """
    img_labels = image_labels_from_dataset(dataset, num_classes)
    samplers = dict(
        random=DefaultSampler(dataset, shuffle=True, seed=seed),
        class_aware=ClassAwareSampler(dataset, seed=seed),
        cxr_balanced=CXRBalancedSampler(
            dataset, seed=seed, neg_fraction=neg_fraction))
    report: dict[str, dict[str, Any]] = {}
    for name, sampler in samplers.items():
        indices: list[int] = []
        for epoch in range(num_epochs):
            sampler.set_epoch(epoch)
            indices.extend(sampler)
        freqs = sampled_class_frequencies(img_labels, indices)
        drawn = img_labels[np.asarray(indices)]
        report[name] = dict(
            class_frequencies=freqs.tolist(),
            max_min_ratio=max_min_ratio(freqs),
            negative_share=float((drawn.sum(axis=1) == 0).mean()),
            unique_fraction=len(set(indices)) / len(img_labels),
            num_drawn=len(indices))
    return report
