# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Bootstrap intervals and per-source figures of an evaluator's metrics.

Each metric of the evaluator that has ``resampled(weights)`` and
``last_img_ids`` (``CXRCocoMetric``, ``CXRVOCMetric``, ``CXRROCMetric``,
after an evaluation) recomputes its keys for image resamples from the
matches it kept. Images are resampled in groups (``functional``'s
:func:`group_resample_weights`), a source is a 0/1 weighting of the images.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .functional.group_bootstrap import (BOOTSTRAP_SEED,
                                         group_resample_weights,
                                         percentile_interval)


def _resamplable(metrics: Iterable) -> list:
    return [
        m for m in metrics if hasattr(m, 'resampled')
        and getattr(m, 'last_img_ids', None) is not None
    ]


def resampled_metrics(metrics: Iterable, img_ids: Sequence,
                      weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every resamplable key of ``metrics`` for the given resamples.

    Args:
        metrics: Evaluated metrics (``Evaluator.metrics``).
        img_ids: (N,) image ids, the columns of ``weights``.
        weights: (B, N) multiplicity of each image in each resample.

    Returns:
        dict: prefixed key (``coco/bbox_mAP``, as the evaluator names it)
        -> (B,) values.
    """
    weights = np.atleast_2d(np.asarray(weights))
    column = {img_id: k for k, img_id in enumerate(img_ids)}
    out = {}
    for metric in _resamplable(metrics):
        ids = metric.last_img_ids
        missing = [i for i in ids if i not in column]
        if missing:
            raise ValueError(f'{type(metric).__name__} evaluated images '
                             f'without a group: {missing[:5]!r}')
        figures = metric.resampled(weights[:, [column[i] for i in ids]])
        prefix = f'{metric.prefix}/' if metric.prefix else ''
        out.update({prefix + k: np.asarray(v) for k, v in figures.items()})
    return out


def bootstrap_intervals(metrics: Iterable,
                        img_ids: Sequence,
                        groups: Sequence,
                        n_boot: int = 1000,
                        level: float = 0.95,
                        seed: int = BOOTSTRAP_SEED) -> dict[str, dict]:
    """Percentile bootstrap interval of every resamplable key.

    Args:
        metrics: Evaluated metrics.
        img_ids: (N,) the evaluated image ids.
        groups: (N,) the group of each (NIH patient, VinBig image).
        n_boot: Resamples.
        level: Coverage of the intervals.
        seed: Seed of the resamples.

    Returns:
        dict: key -> ``value`` (the figure on all images, unrounded),
        ``low``, ``high``, ``n_boot`` (resamples defining it), ``level``.
    """
    if len(img_ids) != len(groups):
        raise ValueError('img_ids and groups must have the same length, '
                         f'got {len(img_ids)!r} and {len(groups)!r}')
    point = resampled_metrics(metrics, img_ids, np.ones((1, len(img_ids))))
    weights = group_resample_weights(groups, n_boot, seed)
    boot = resampled_metrics(metrics, img_ids, weights)
    return {
        key: dict(value=float(point[key][0]),
                  **percentile_interval(boot[key], level))
        for key in point
    }


def metrics_by_source(metrics: Iterable, img_ids: Sequence,
                      sources: Sequence, num_boxes: Sequence | None = None
                      ) -> dict[str, dict]:
    """Every resamplable key on the images of each source alone.

    Args:
        metrics: Evaluated metrics.
        img_ids: (N,) the evaluated image ids.
        sources: (N,) the source of each (``'nih'``, ``'vinbig'``...).
        num_boxes: (N,) ground-truth boxes per image, for the counts.

    Returns:
        dict: source -> ``metrics`` (key -> value, ``None`` where
        undefined) and ``counts`` (``images``, and ``boxes`` when given).
    """
    sources = np.asarray(sources, dtype=object)
    out = {}
    for source in sorted(set(sources.tolist())):
        mask = (sources == source).astype(np.float64)[None]
        values = resampled_metrics(metrics, img_ids, mask)
        counts = dict(images=int(mask.sum()))
        if num_boxes is not None:
            counts['boxes'] = int(np.asarray(num_boxes)[mask[0] > 0].sum())
        out[source] = dict(
            metrics={
                k: (None if not np.isfinite(v[0]) else float(v[0]))
                for k, v in values.items()
            },
            counts=counts)
    return out
