# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Read what a finished (or running) training left in its work dir.

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/
scalars.json``: JSON lines, training lines with ``epoch``, ``iter``,
``step``, ``lr`` and the losses (``loss``, ``loss_cls``, ...), and
validation lines with the metrics (``coco/bbox_mAP``, ``cxr/mAUC``, ...)
and ``step`` = the epoch (or the iteration when metrics are logged by
iteration). A resumed run writes a new timestamp folder; later runs win.
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

#: Keys of the metrics plotted over epochs, with their legend names.
METRIC_KEYS: dict[str, str] = {
    'coco/bbox_mAP': 'mAP (COCO 0.5:0.95)',
    'coco/bbox_mAP_50': 'mAP50',
    'pascal_voc/mAP': 'mAP@0.4 (VOC area)',
    'cxr/mAUC': 'mAUC',
    'cxr/FROC': 'FROC',
}

_CKPT_RE = re.compile(r'(?:^|_)epoch_(\d+)\.pth$')
_TIME_KEYS = ('time', 'data_time', 'memory', 'eta')
#: Key added to each record read: index of its file, oldest run 0.
RUN_KEY = '_run'


@dataclass
class ScalarLog:
    """Training and validation scalars of a work dir.

    Attributes:
        train: training records (dicts), in file order.
        val: validation records (dicts with ``step``), in file order.
        files: the ``scalars.json`` files read, oldest run first.
        skipped: ``'file:line: reason'`` for each line that was not read.
    """
    train: list[dict] = field(default_factory=list)
    val: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def find_scalar_files(work_dir: str | Path) -> list[Path]:
    """All ``<work_dir>/<timestamp>/vis_data/scalars.json``, oldest first
    (timestamp folder names sort by time)."""
    work_dir = Path(work_dir)
    return sorted(
        work_dir.glob('*/vis_data/scalars.json'),
        key=lambda p: p.parent.parent.name)


def _strip_mode(record: dict, mode: str) -> dict:
    """Drop a ``train/`` or ``val/`` prefix (``log_with_hierarchy=True``)."""
    prefix = f'{mode}/'
    return {
        k[len(prefix):] if k.startswith(prefix) else k: v
        for k, v in record.items()
    }


def is_train_record(record: dict) -> bool:
    """A training line holds a loss or learning rate and an ``iter``."""
    return 'iter' in record and any(
        k.startswith('loss') or k.endswith('lr') for k in record)


def read_scalars(work_dir: str | Path) -> ScalarLog:
    """Read every ``scalars.json`` of a work dir.

    Lines that are not UTF-8 JSON objects are skipped and listed in
    :attr:`ScalarLog.skipped` (a run killed while writing leaves half a
    line).
    """
    log = ScalarLog(files=find_scalar_files(work_dir))
    for run, path in enumerate(log.files):
        with open(path, 'rb') as f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode('utf-8').strip()
                except UnicodeDecodeError as e:
                    log.skipped.append(f'{path}:{lineno}: not UTF-8 ({e})')
                    continue
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    log.skipped.append(f'{path}:{lineno}: not JSON ({e})')
                    continue
                if not isinstance(record, dict):
                    log.skipped.append(f'{path}:{lineno}: not an object, got '
                                       f'{type(record).__name__}')
                    continue
                record[RUN_KEY] = run
                if is_train_record(_strip_mode(record, 'train')):
                    log.train.append(_strip_mode(record, 'train'))
                elif 'step' in record:
                    log.val.append(_strip_mode(record, 'val'))
                else:
                    log.skipped.append(
                        f'{path}:{lineno}: neither a training line nor a '
                        f'validation line with a step, keys '
                        f'{sorted(record)!r}')
    return log


def _number(value) -> float | None:
    """``value`` as a finite-or-nan float, None if it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def losses_per_epoch(
        train: list[dict]) -> tuple[str, list[int], dict[str, list[float]]]:
    """Mean of each loss term over the training lines of each epoch.

    Returns:
        ``(x_name, xs, losses)``: ``x_name`` is ``'epoch'`` (or ``'iter'``
        for iteration-based training, one point per line), ``xs`` the
        sorted x values, ``losses[key]`` one value per x (``nan`` where the
        term was not logged). When several runs logged the same x (a run
        restarted from scratch in the same work dir), the latest run wins.
    """
    by_epoch = all('epoch' in r for r in train) and bool(train)
    x_name = 'epoch' if by_epoch else 'iter'
    groups: dict[int, dict[str, list[float]]] = {}
    group_run: dict[int, int] = {}
    for record in train:
        x = int(record[x_name])
        run = record.get(RUN_KEY, 0)
        if group_run.get(x, run) < run:
            del groups[x]  # an older run's lines of this x
        elif group_run.get(x, run) > run:
            continue
        group_run[x] = run
        values = {
            k: _number(v)
            for k, v in record.items() if k.startswith('loss')
        }
        group = groups.setdefault(x, defaultdict(list))
        for key, value in values.items():
            if value is not None:
                group[key].append(value)
    xs = sorted(groups)
    keys = sorted({k
                   for g in groups.values()
                   for k in g},
                  key=lambda k: (k != 'loss', k))
    losses = {
        key: [
            sum(groups[x][key]) /
            len(groups[x][key]) if groups[x].get(key) else math.nan for x in xs
        ]
        for key in keys
    }
    return x_name, xs, losses


def metrics_per_step(
    val: list[dict],
    keys: list[str] | None = None,
) -> tuple[list[int], dict[str, list[float]]]:
    """Validation metrics over steps (epochs, when logged by epoch).

    Args:
        val: validation records.
        keys: metric keys to keep; default: every numeric key except
            timing ones.

    Returns:
        ``(steps, metrics)`` with ``metrics[key]`` one value per step
        (``nan`` where missing); keys never logged are left out. The last
        record of a step wins.
    """
    latest: dict[int, dict] = {}
    for record in val:
        latest.setdefault(int(record['step']), {}).update(record)
    steps = sorted(latest)
    if keys is None:
        keys = sorted({
            k
            for r in latest.values()
            for k, v in r.items() if k not in ('step', RUN_KEY)
            and k not in _TIME_KEYS and _number(v) is not None
        })
    metrics = {}
    for key in keys:
        values = [_number(latest[s].get(key)) for s in steps]
        if any(v is not None for v in values):
            metrics[key] = [math.nan if v is None else v for v in values]
    return steps, metrics


def checkpoint_epochs(work_dir: str | Path,
                      ckpt_interval: int | None = None,
                      max_epoch: int | None = None) -> list[int]:
    """Epochs that have a checkpoint.

    Found from ``epoch_<n>.pth`` and ``best_*_epoch_<n>.pth`` files in the
    work dir, plus, with ``ckpt_interval``, every multiple of it up to
    ``max_epoch`` (for work dirs whose checkpoints were moved away).
    """
    if ckpt_interval is not None and ckpt_interval <= 0:
        raise ValueError(
            f'ckpt_interval must be positive, got {ckpt_interval!r}')
    epochs = set()
    for path in Path(work_dir).glob('*.pth'):
        match = _CKPT_RE.search(path.name)
        if match:
            epochs.add(int(match.group(1)))
    if ckpt_interval and max_epoch:
        epochs.update(range(ckpt_interval, max_epoch + 1, ckpt_interval))
    return sorted(epochs)
