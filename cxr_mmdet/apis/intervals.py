# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Confidence intervals and per-source figures of a finished test run:
what ``tools/test.py`` prints beside each figure and writes to
``metrics_ci.json`` and ``metrics_by_source.json``."""
from __future__ import annotations

import os.path as osp
from typing import Any

#: Bootstrap resamples unless told (``--bootstrap``).
DEFAULT_BOOTSTRAP = 1000
#: Coverage of the intervals unless told (``--ci-level``).
DEFAULT_CI_LEVEL = 0.95


def evaluated_images(dataset: Any) -> dict[str, list]:
    """``img_id``, ``group`` and ``source`` of every image of ``dataset``
    (a ``CXRVOCDataset``; another dataset's images are each their own
    group, of source ``'unknown'``), and its ``boxes`` per image."""
    out = dict(img_id=[], group=[], source=[], boxes=[])
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        out['img_id'].append(info['img_id'])
        out['group'].append(info.get('group') or f'image:{info["img_id"]}')
        out['source'].append(info.get('source') or 'unknown')
        instances = info.get('instances', ())
        out['boxes'].append(
            sum(not i.get('ignore_flag', 0) for i in instances))
    return out


def runner_intervals(runner: Any,
                     n_boot: int = DEFAULT_BOOTSTRAP,
                     level: float = DEFAULT_CI_LEVEL,
                     seed: int | None = None) -> dict:
    """Intervals and per-source figures of the run's last test evaluation.

    Args:
        runner: An mmengine Runner after ``test()``.
        n_boot: Resamples; 0 computes the per-source figures only.
        level: Coverage of the intervals.
        seed: Seed of the resamples (default ``BOOTSTRAP_SEED``).

    Returns:
        dict: ``intervals`` (key -> value/low/high/n_boot/level; empty with
        ``n_boot=0``) and ``by_source`` (source -> metrics and counts).
    """
    from ..evaluation import bootstrap_intervals, metrics_by_source
    from ..evaluation.functional import BOOTSTRAP_SEED
    images = evaluated_images(runner.test_dataloader.dataset)
    metrics = runner.test_loop.evaluator.metrics
    intervals = {}
    if n_boot:
        intervals = bootstrap_intervals(
            metrics, images['img_id'], images['group'], n_boot, level,
            BOOTSTRAP_SEED if seed is None else seed)
    by_source = metrics_by_source(metrics, images['img_id'],
                                  images['source'], images['boxes'])
    return dict(intervals=intervals, by_source=by_source)


def write_intervals(result: dict, out_dir: str) -> list[str]:
    """Write ``metrics_ci.json`` (when there are intervals) and
    ``metrics_by_source.json``, non-finite figures as ``null``; return
    the paths written."""
    from ..visualization import to_json_safe
    from .operating_points import write_json
    paths = []
    if result['intervals']:
        paths.append(
            write_json(
                to_json_safe(result['intervals']),
                osp.join(out_dir, 'metrics_ci.json')))
    paths.append(
        write_json(
            to_json_safe(result['by_source']),
            osp.join(out_dir, 'metrics_by_source.json')))
    return paths
