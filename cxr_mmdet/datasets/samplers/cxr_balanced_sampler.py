# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Multi-label aware weighted sampler that balances the six classes."""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np
from mmdet.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from ..image_labels import image_labels_from_dataset


def image_sampling_weights(img_labels: np.ndarray,
                           neg_fraction: float = 0.1) -> np.ndarray:
    """Return the probability of drawing each image.

    A positive image weighs ``max over its labels c of 1 / freq_c``, where
    ``freq_c`` is the number of images labelled ``c``: the rarest label of
    the image counts. Positives share ``1 - neg_fraction`` of the mass in
    proportion to these weights; negatives (no label) share
    ``neg_fraction`` equally. If one group is empty the other takes all
    the mass.

    Args:
        img_labels (np.ndarray): 0/1 labels of shape (N, num_classes).
        neg_fraction (float): Total probability of drawing a negative,
            in [0, 1]. Defaults to 0.1.

    Returns:
        np.ndarray: Probabilities of shape (N,), float64, summing to 1.

    Examples:
        >>> labels = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [0, 0]])
        >>> image_sampling_weights(labels, neg_fraction=0.2).round(4)
        array([0.1143, 0.1143, 0.1143, 0.4571, 0.2   ])
    """
    labels = np.asarray(img_labels)
    if labels.ndim != 2 or labels.shape[0] == 0:
        raise ValueError('img_labels must have shape (N > 0, num_classes), '
                         f'got shape {labels.shape!r}')
    if not np.isin(labels, (0, 1)).all():
        raise ValueError('img_labels must be 0/1, got values '
                         f'{np.unique(labels).tolist()!r}')
    if not 0.0 <= float(neg_fraction) <= 1.0:
        raise ValueError(
            f'neg_fraction must be in [0, 1], got {neg_fraction!r}')
    labels = labels.astype(bool)
    positive = labels.any(axis=1)
    freq = labels.sum(axis=0).astype(np.float64)
    inv_freq = np.divide(1.0, freq, out=np.zeros_like(freq), where=freq > 0)
    weights = np.where(labels, inv_freq[None, :], 0.0).max(axis=1)
    num_neg = int((~positive).sum())
    if not positive.any():
        return np.full(len(labels), 1.0 / len(labels))
    pos_share = 1.0 if num_neg == 0 else 1.0 - float(neg_fraction)
    probs = weights / weights.sum() * pos_share
    if num_neg:
        probs[~positive] = (1.0 - pos_share) / num_neg
    return probs / probs.sum()


@DATA_SAMPLERS.register_module()
class CXRBalancedSampler(Sampler):
    """Draw images with replacement so that rare classes are seen as often
    as common ones.

    Each epoch draws ``num_samples`` indices with the probabilities of
    :func:`image_sampling_weights`: the weight of an image is the inverse
    image frequency of its rarest label, and negative images together get
    ``neg_fraction`` of the draws. The draw depends only on
    ``(seed, epoch)`` (see :meth:`set_epoch`). Under distributed training
    the epoch's draw is rounded up to a multiple of the world size and rank
    ``r`` takes every ``world_size``-th index from ``r``, like mmengine's
    ``DefaultSampler``: shards are disjoint and of equal length.

    Args:
        dataset: Dataset to sample; image labels are the classes each
            image has boxes of (:func:`image_labels_from_dataset`).
        seed (int, optional): Random seed shared by all ranks; drawn and
            synchronised across ranks when None. Defaults to None.
        neg_fraction (float): Share of draws that are negative images.
            Defaults to 0.1.
        num_samples (int, optional): Indices drawn per epoch over all
            ranks (before rounding up to a multiple of the world size).
            Defaults to ``len(dataset)``.
        num_classes (int, optional): Number of classes; defaults to
            ``len(dataset.metainfo['classes'])``.
        rank (int, optional): Overrides the distributed rank (tests).
        world_size (int, optional): Overrides the world size (tests).
    """

    def __init__(self,
                 dataset: Any,
                 seed: int | None = None,
                 neg_fraction: float = 0.1,
                 num_samples: int | None = None,
                 num_classes: int | None = None,
                 rank: int | None = None,
                 world_size: int | None = None) -> None:
        dist_rank, dist_world_size = get_dist_info()
        self.rank = dist_rank if rank is None else int(rank)
        self.world_size = (
            dist_world_size if world_size is None else int(world_size))
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError('rank must be in [0, world_size), got rank '
                             f'{self.rank!r}, world_size '
                             f'{self.world_size!r}')
        if seed is None:
            seed = sync_random_seed()
        self.seed = int(seed)
        self.epoch = 0
        self.dataset = dataset
        self.neg_fraction = float(neg_fraction)
        self.img_labels = image_labels_from_dataset(dataset, num_classes)
        self.probs = image_sampling_weights(self.img_labels, neg_fraction)
        epoch_length = len(dataset) if num_samples is None else num_samples
        if (isinstance(epoch_length, bool)
                or not isinstance(epoch_length,
                                  (int, np.integer)) or epoch_length < 1):
            raise ValueError(
                f'num_samples must be a positive int, got {num_samples!r}')
        self.epoch_length = int(epoch_length)
        self.samples_per_rank = math.ceil(self.epoch_length / self.world_size)
        self.total_size = self.samples_per_rank * self.world_size

    def _epoch_indices(self) -> np.ndarray:
        """All ranks' indices of the current epoch, shape (total_size,)."""
        # SeedSequence entropy must be non-negative: fold negative seeds.
        rng = np.random.default_rng([self.seed % 2**64, self.epoch])
        return rng.choice(
            len(self.probs), size=self.total_size, replace=True, p=self.probs)

    def __iter__(self) -> Iterator[int]:
        """Iterate this rank's indices of the current epoch."""
        indices = self._epoch_indices()
        return iter(
            indices[self.rank:self.total_size:self.world_size].tolist())

    def __len__(self) -> int:
        """The number of indices this rank yields per epoch."""
        return self.samples_per_rank

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: the draw is a function of ``(seed, epoch)``."""
        if epoch < 0:
            raise ValueError(f'epoch must be >= 0, got {epoch!r}')
        self.epoch = int(epoch)
