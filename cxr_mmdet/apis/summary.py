# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Summaries of evaluation metrics: the table the tools print and save."""
from __future__ import annotations

import json
import math
import os
import os.path as osp
from collections.abc import Sequence

from ..classes import CXR_CLASSES, class_key

#: headline keys: label -> metric key written by the evaluators
HEADLINE: dict[str, str] = {
    'mAP@[.5:.95]': 'coco/bbox_mAP',
    'mAP@.5': 'coco/bbox_mAP_50',
    'mAP@.75': 'coco/bbox_mAP_75',
    'mAP@0.4 (VinBig)': 'pascal_voc/mAP',
    'AR@100': 'coco/bbox_AR@100',
    'mAUC': 'cxr/mAUC',
    'FROC': 'cxr/FROC',
}


def summarize_metrics(metrics: dict,
                      classes: Sequence[str] = CXR_CLASSES) -> dict:
    """Pick the headline and per-class figures out of an evaluator's dict.

    Args:
        metrics: what ``Runner.test()``/``val()`` returned.
        classes: class names in label order.

    Returns:
        dict: ``headline`` (label -> value or None) and ``per_class``
        (class -> dict of ``AP`` (COCO AP@[.5:.95]) and ``AUC``, None where
        the evaluators gave no value).
    """
    headline = {
        label: _num(metrics.get(key))
        for label, key in HEADLINE.items()
    }
    per_class = {}
    for name in classes:
        per_class[name] = dict(
            AP=_num(metrics.get(f'coco/{name}_precision')),
            AUC=_num(metrics.get(f'cxr/AUC_{class_key(name)}')))
    return dict(headline=headline, per_class=per_class)


def _num(value) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _fmt(value: float | None) -> str:
    return '  n/a' if value is None else f'{value:.3f}'


def format_summary(summary: dict) -> str:
    """Render :func:`summarize_metrics`'s dict as a plain-text table."""
    lines = ['metric               value']
    for label, value in summary['headline'].items():
        lines.append(f'{label:<20} {_fmt(value)}')
    lines.append('')
    lines.append(f'{"class":<20} {"AP":>6} {"AUC":>6}')
    for name, row in summary['per_class'].items():
        lines.append(f'{name:<20} {_fmt(row["AP"]):>6} {_fmt(row["AUC"]):>6}')
    return '\n'.join(lines)


def write_summary(summary: dict, metrics: dict, out_dir: str) -> list[str]:
    """Write ``metrics.json`` (all metrics) and ``per_class.json``.

    Returns:
        list[str]: the paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = [osp.join(out_dir, 'metrics.json'),
             osp.join(out_dir, 'per_class.json')]
    plain = {k: _num(v) if not isinstance(v, str) else v
             for k, v in metrics.items()}
    with open(paths[0], 'w') as f:
        json.dump(dict(metrics=plain, headline=summary['headline']), f,
                  indent=2)
    with open(paths[1], 'w') as f:
        json.dump(summary['per_class'], f, indent=2)
    return paths
