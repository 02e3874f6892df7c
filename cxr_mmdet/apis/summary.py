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


#: per-class columns: label -> (``per_class.json`` key, metric key
#: pattern with ``{name}`` the class name and ``{key}`` its metric key)
PER_CLASS: dict[str, tuple[str, str]] = {
    'AP@.5': ('AP50', 'coco/{name}_precision_50'),
    'AP@[.5:.95]': ('AP', 'coco/{name}_precision'),
    'AUC': ('AUC', 'cxr/AUC_{key}'),
}


def summarize_metrics(metrics: dict,
                      classes: Sequence[str] = CXR_CLASSES) -> dict:
    """Pick the headline and per-class figures out of an evaluator's dict.

    Args:
        metrics: what ``Runner.test()``/``val()`` returned.
        classes: class names in label order.

    Returns:
        dict: ``headline`` (label -> value or None) and ``per_class``
        (class -> dict of ``AP50`` (COCO AP at IoU .5), ``AP`` (COCO
        AP@[.5:.95]) and ``AUC``, None where the evaluators gave no value).
    """
    headline = {
        label: _num(metrics.get(key))
        for label, key in HEADLINE.items()
    }
    per_class = {
        name: {
            field: _num(
                metrics.get(pattern.format(name=name, key=class_key(name))))
            for field, pattern in PER_CLASS.values()
        }
        for name in classes
    }
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
    return 'n/a' if value is None else f'{value:.3f}'


def format_table(rows: Sequence[Sequence[str]],
                 title: str | None = None) -> str:
    """``rows`` (the first is the header) as a ``terminaltables`` ASCII
    table, numbers right-aligned."""
    from terminaltables import AsciiTable
    table = AsciiTable([list(r) for r in rows], title)
    for i in range(1, len(rows[0])):
        table.justify_columns[i] = 'right'
    return table.table


#: per-source columns: source -> printed name
SOURCE_COLUMNS: dict[str, str] = {'nih': 'NIH', 'vinbig': 'VinBig'}


def format_interval(value: float | None, interval: dict | None = None) -> str:
    """``value [low, high]`` (3 decimals), ``value`` alone without an
    interval, ``n/a`` without a value.

    >>> format_interval(0.5, dict(low=0.41, high=0.6))
    '0.500 [0.410, 0.600]'
    """
    if value is None:
        return 'n/a'
    if not interval or interval.get('low') is None \
            or math.isnan(interval['low']):
        return _fmt(value)
    return f'{value:.3f} [{interval["low"]:.3f}, {interval["high"]:.3f}]'


def format_summary(summary: dict,
                   title: str | None = None,
                   intervals: dict | None = None,
                   by_source: dict | None = None) -> str:
    """Render :func:`summarize_metrics`'s dict as two text tables: the
    headline metrics, then per class the columns of :data:`PER_CLASS`.

    Args:
        summary: :func:`summarize_metrics`'s dict.
        title: Title of the first table.
        intervals: metric key -> ``low``/``high`` (``metrics_ci.json``):
            figures print as ``value [low, high]``.
        by_source: ``metrics_by_source.json``'s dict: the headline table
            gets a column per source of :data:`SOURCE_COLUMNS`.
    """
    intervals = intervals or {}
    sources = [s for s in SOURCE_COLUMNS if by_source is not None]
    level = next(iter(intervals.values()), {}).get('level')
    value_head = 'value' if level is None else \
        f'value [{level:.0%} interval]'
    head = [('metric', value_head) + tuple(SOURCE_COLUMNS[s]
                                           for s in sources)]
    for label, value in summary['headline'].items():
        key = HEADLINE[label]
        row = (label, format_interval(value, intervals.get(key)))
        for source in sources:
            figures = (by_source.get(source) or {}).get('metrics', {})
            row += (_fmt(_num(figures.get(key))), )
        head.append(row)
    if sources:
        head.append(('images', '') + tuple(
            str((by_source.get(s) or {}).get('counts', {}).get('images', 0))
            for s in sources))
    fields = [(label, field, pattern)
              for label, (field, pattern) in PER_CLASS.items()]
    per_class = [('class', ) + tuple(label for label, _, _ in fields)]
    for name, row in summary['per_class'].items():
        per_class.append((name, ) + tuple(
            format_interval(
                row.get(field),
                intervals.get(pattern.format(name=name, key=class_key(name))))
            for _, field, pattern in fields))
    return format_table(head, title) + '\n' + format_table(per_class)


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
