# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Operating points: per-class thresholds chosen on val
(``operating_points.json``), what they reach on test, and the thresholds
``tools/infer.py --operating-point`` applies."""
from __future__ import annotations

import json
import os
import os.path as osp
from collections.abc import Sequence
from typing import Any

#: The file the val thresholds are written to (work dir) and read from
#: (beside the checkpoint).
OPERATING_POINTS_FILE = 'operating_points.json'
#: What the test split reaches at the val thresholds.
OPERATING_POINTS_TEST_FILE = 'operating_points_test.json'


def _roc_metric(runner: Any, loop: str = 'test'):
    from ..evaluation import CXRROCMetric
    evaluator = getattr(runner, f'{loop}_loop').evaluator
    for metric in evaluator.metrics:
        if isinstance(metric, CXRROCMetric):
            return metric
    raise ValueError(f'the {loop} evaluator has no CXRROCMetric, got '
                     f'{[type(m).__name__ for m in evaluator.metrics]!r}')


def runner_operating_points(runner: Any,
                            loop: str = 'test',
                            target_sensitivity: float = 0.9,
                            target_fp_per_image: float = 1.0) -> dict:
    """Operating points of the last evaluation of ``loop`` (``'val'``
    or ``'test'``): :func:`choose_operating_points` on its FROC hits."""
    from ..evaluation.functional.operating_points import \
        choose_operating_points
    metric = _roc_metric(runner, loop)
    return dict(
        points=choose_operating_points(metric.froc_hits(), metric.class_names,
                                       target_sensitivity,
                                       target_fp_per_image),
        num_images=len(metric.last_img_ids))


def achieved_on(runner: Any, chosen: dict) -> dict:
    """Sensitivity and FPs per image the last test evaluation reaches at
    the thresholds of ``chosen`` (an ``operating_points.json``)."""
    from ..evaluation.functional.operating_points import achieved_at
    metric = _roc_metric(runner, 'test')
    hits = metric.froc_hits()
    out = {}
    for c, name in enumerate(metric.class_names):
        for point, val in chosen['points'].get(name, {}).items():
            out.setdefault(name, {})[point] = dict(
                threshold=val['threshold'],
                val_sensitivity=val['sensitivity'],
                val_fp_per_image=val['fp_per_image'],
                **achieved_at(hits, c, val['threshold']))
    return dict(points=out, num_images=len(metric.last_img_ids))


def write_json(obj: dict, path: str) -> str:
    """Write ``obj`` as indented JSON; return the path."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
    return path


def read_operating_points(path: str) -> dict:
    """Read an ``operating_points.json``; a clear error when it is not
    one."""
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get('points'),
                                                    dict):
        raise ValueError(f'{path}: not an operating_points.json (no '
                         f'"points"), got keys {sorted(data)!r}')
    return data


def operating_point_thresholds(spec: str, checkpoint: str,
                               classes: Sequence[str]) -> list[float]:
    """Per-class score thresholds of ``--operating-point``.

    Args:
        spec: a point name (``sens90``, ``fp1``) of the
            ``operating_points.json`` beside ``checkpoint``, or
            ``FILE[:NAME]``: that point of another such file (NAME may be
            left out when every class has one point).
        checkpoint: The checkpoint file.
        classes: Class names, in label order.

    Returns:
        list[float]: one threshold per class; a class whose target is out
        of reach on val (threshold None) keeps all its detections (0).
    """
    path, name = osp.join(osp.dirname(osp.abspath(checkpoint)),
                          OPERATING_POINTS_FILE), spec
    if spec.endswith('.json') or ':' in spec or osp.isfile(spec):
        path, _, name = spec.partition(':') if not osp.isfile(spec) else (
            spec, '', '')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'--operating-point {spec!r}: no {path} (written by '
            'tools/test.py --split val and at the end of training)')
    points = read_operating_points(path)['points']
    out = []
    for cls in classes:
        options = points.get(cls, {})
        if not name and len(options) == 1:
            point = next(iter(options.values()))
        elif name in options:
            point = options[name]
        else:
            raise ValueError(f'{path}: no operating point {name!r} for '
                             f'class {cls!r}, got {sorted(options)!r}')
        out.append(0.0 if point['threshold'] is None else
                   float(point['threshold']))
    return out


def format_operating_points(points: dict, title: str | None = None) -> str:
    """``operating_points.json`` (or ``_test.json``) as a text table: per
    class and point its threshold, sensitivity and FPs per image (on test
    also the val figures)."""
    from .summary import format_table

    def fmt(value, digits=3):
        return 'n/a' if value is None else f'{value:.{digits}f}'

    rows = [('class', 'point', 'threshold', 'sensitivity', 'FP/image')]
    for name, by_point in points['points'].items():
        for point, p in by_point.items():
            sens, fppi = fmt(p['sensitivity']), fmt(p['fp_per_image'])
            if 'val_sensitivity' in p:
                sens += f' (val {fmt(p["val_sensitivity"])})'
                fppi += f' (val {fmt(p["val_fp_per_image"])})'
            rows.append((name, point, fmt(p['threshold'], 4), sens, fppi))
    return format_table(rows, title)
