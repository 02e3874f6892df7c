# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""All plots of a work dir, from its logs alone (no re-run).

Used by ``tools/analysis_tools/plot_metrics.py``. Each missing piece (no
scalars yet, no ROC JSON, no per-class file) skips its plot with a
message; nothing here raises for an incomplete work dir.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cxr_mmdet.classes import CXR_CLASSES, class_key
from .plots import (plot_loss_curves, plot_metric_curves, plot_per_class,
                    plot_roc_curves)
from .roc_json import latest_roc_json, load_roc_json
from .scalars import (METRIC_KEYS, checkpoint_epochs, losses_per_epoch,
                      metrics_per_step, read_scalars)

#: Per-class metric names looked up in ``per_class.json``, in plot order.
PER_CLASS_METRICS: tuple[str, ...] = ('AP', 'AP50', 'AP@0.4', 'AUC')


@dataclass
class WorkDirPlots:
    """What :func:`plot_work_dir` wrote and why it skipped the rest."""
    written: dict[str, Path] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)


def _finite(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def parse_per_class(data, class_names: Sequence[str]) -> dict[str, dict]:
    """Normalise a per-class table to ``metric -> class -> value``.

    Accepted shapes (an optional ``{"classes": ...}`` wrapper around any):
    ``{class: {metric: v}}``, ``{metric: {class: v}}`` and
    ``[{"class": name, metric: v, ...}, ...]``.
    """
    if isinstance(
            data,
            dict) and 'classes' in data and not (set(data) & set(class_names)):
        data = data['classes']
    out: dict[str, dict] = {}

    def put(cls, metric, value):
        value = _finite(value)
        if value is not None:
            out.setdefault(str(metric), {})[str(cls)] = value

    if isinstance(data, list):
        for row in data:
            if not isinstance(row, dict):
                raise ValueError(f'per-class rows must be objects, got '
                                 f'{row!r}')
            cls = row.get('class', row.get('name'))
            if cls is None:
                raise ValueError(f'per-class row lacks "class", got {row!r}')
            for metric, value in row.items():
                if metric not in ('class', 'name'):
                    put(cls, metric, value)
    elif isinstance(data, dict):
        by_class = bool(set(data) & set(class_names))
        for outer, inner in data.items():
            if not isinstance(inner, dict):
                continue
            for k, value in inner.items():
                if by_class:
                    put(outer, k, value)
                else:
                    put(k, outer, value)
    else:
        raise ValueError(f'per-class table must be an object or a list, got '
                         f'{type(data).__name__}')
    return out


def find_per_class_json(work_dir: str | Path) -> Path | None:
    """``<work_dir>/per_class.json``, else the newest one below it."""
    work_dir = Path(work_dir)
    if (work_dir / 'per_class.json').is_file():
        return work_dir / 'per_class.json'
    files = list(work_dir.glob('**/per_class.json'))
    if not files:
        return None
    return max(files, key=lambda p: (p.stat().st_mtime_ns, str(p)))


def _latest_val_values(val: list[dict]) -> dict:
    steps, metrics = metrics_per_step(val)
    if not steps:
        return {}
    return {k: v[-1] for k, v in metrics.items() if not math.isnan(v[-1])}


def collect_per_class(work_dir: Path, val: list[dict], roc: dict | None,
                      messages: list[str]) -> tuple[list[str], dict]:
    """Per-class AP / AUC of the latest evaluation, from ``per_class.json``,
    the ROC JSON and the latest validation scalars (in that order)."""
    names = list(CXR_CLASSES)
    if roc:
        names += [n for n in roc['classes'] if n not in names]
        names += [n for n in roc.get('missing', {}) if n not in names]
    values: dict[str, dict] = {}
    path = find_per_class_json(work_dir)
    if path is not None:
        try:
            with open(path) as f:
                values = parse_per_class(json.load(f), names)
        except (OSError, ValueError) as e:
            messages.append(f'per_class.png: skipped {path}: {e}')
            values = {}
    latest = _latest_val_values(val)

    def logged(key_of) -> dict:
        return {n: latest[key_of(n)] for n in names if key_of(n) in latest}

    # metric -> (class -> value, why there is none)
    found: dict[str, tuple[dict, str]] = {}
    if 'AP' not in values:
        found['AP'] = (logged(lambda n: f'coco/{n}_precision'),
                       'no per-class AP (no per_class.json with "AP" in the '
                       'work dir and no classwise coco/<class>_precision '
                       'logged)')
    if 'AUC' not in values:
        auc = {
            n: c['auc']
            for n, c in roc['classes'].items()
            if _finite(c.get('auc')) is not None
        } if roc else logged(lambda n: f'cxr/AUC_{class_key(n)}')
        found['AUC'] = (auc, 'no per-class AUC (no ROC JSON and no '
                        'cxr/AUC_<class> logged)')
    for metric, (per_class, why) in found.items():
        if per_class:
            values[metric] = per_class
        else:
            messages.append(f'per_class.png: {why}')
    order = [m for m in PER_CLASS_METRICS if m in values]
    order += sorted(m for m in values if m not in order)
    values = {m: values[m] for m in order}
    present = {c for v in values.values() for c in v}
    classes = [n for n in names if n in present or n in CXR_CLASSES]
    return classes, values


def plot_work_dir(work_dir: str | Path,
                  out_dir: str | Path | None = None,
                  ckpt_interval: int | None = None) -> WorkDirPlots:
    """Write ``loss_curve.png``, ``metrics.png``, ``roc_curves.png`` and
    ``per_class.png`` for a work dir.

    Args:
        work_dir: an mmengine work dir (``<timestamp>/vis_data/
            scalars.json``, checkpoints, ``roc/*.json``).
        out_dir: where to write; default ``work_dir``.
        ckpt_interval: also mark every multiple of it as a checkpoint
            epoch (``CheckpointHook.interval``).

    Returns:
        :class:`WorkDirPlots`: written files by name, and a message per
        skipped piece.
    """
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise ValueError(f'work dir {str(work_dir)!r} is not a directory')
    out_dir = Path(out_dir) if out_dir is not None else work_dir
    result = WorkDirPlots()
    msgs = result.messages

    log = read_scalars(work_dir)
    msgs.extend(f'scalars: skipped line {s}' for s in log.skipped)
    if not log.files:
        msgs.append(f'no */vis_data/scalars.json under {work_dir}: no loss '
                    'or metric curves')
    x_name, xs, losses = losses_per_epoch(log.train)
    max_epoch = max(xs) if xs and x_name == 'epoch' else None
    ckpts = checkpoint_epochs(work_dir, ckpt_interval, max_epoch) \
        if x_name == 'epoch' else []
    if losses:
        result.written['loss_curve'] = plot_loss_curves(
            xs, losses, out_dir / 'loss_curve.png', ckpts, x_name)
    elif log.files:
        msgs.append('loss_curve.png: no training loss in the scalars')

    steps, metrics = metrics_per_step(log.val, list(METRIC_KEYS))
    if metrics:
        result.written['metrics'] = plot_metric_curves(
            steps, metrics, out_dir / 'metrics.png', METRIC_KEYS, ckpts,
            'epoch' if x_name == 'epoch' else 'step')
        for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'cxr/mAUC'):
            if key not in metrics:
                msgs.append(f'metrics.png: {key} was never logged')
    elif log.files:
        msgs.append('metrics.png: no validation metric in the scalars '
                    f'(looked for {", ".join(METRIC_KEYS)})')

    roc = None
    roc_path = latest_roc_json(work_dir)
    if roc_path is None:
        msgs.append('roc_curves.png: no roc/*.json in the work dir (is '
                    'ROCCurveHook in the config?)')
    else:
        try:
            roc = load_roc_json(roc_path)
        except (OSError, ValueError) as e:
            msgs.append(f'roc_curves.png: unreadable {roc_path}: {e}')
    if roc is not None:
        title = (f'ROC, {roc.get("stage", "?")} epoch '
                 f'{roc.get("epoch", "?")} ({roc_path.name})')
        result.written['roc_curves'] = plot_roc_curves(
            roc['classes'],
            out_dir / 'roc_curves.png',
            title,
            missing=list(roc.get('missing', {})))

    classes, values = collect_per_class(work_dir, log.val, roc, msgs)
    if values:
        result.written['per_class'] = plot_per_class(
            classes, values, out_dir / 'per_class.png',
            'per-class metrics, latest evaluation')
    else:
        msgs.append('per_class.png: no per-class AP or AUC found')
    return result
