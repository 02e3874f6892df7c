# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The ROC JSON files of a work dir (``roc/<stage>_<epoch>.json``).

Layout::

    {"stage": "val", "epoch": 3,
     "classes": {"Cardiomegaly": {"fpr": [...], "tpr": [...],
                                  "thresholds": [null, 0.93, ...],
                                  "auc": 0.87, "num_pos": 12,
                                  "num_neg": 40}, ...},
     "missing": {"Pulmonary fibrosis": {"num_pos": 0, "num_neg": 52}},
     "metrics": {"cxr/mAUC": 0.81, "cxr/FROC": 0.42, ...}}

Non-finite numbers are written as ``null`` (the first threshold of every
curve is +inf: nothing is called positive), so the file is strict JSON.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np


def to_json_safe(value):
    """Recursively turn numpy values into Python ones, non-finite floats
    into ``None``."""
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json_safe(v) for v in value]
    if isinstance(value, (np.integer, )):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def save_roc_json(record: Mapping, out_file: str | Path) -> Path:
    """Write a ROC record (layout in the module docstring)."""
    for key in ('stage', 'epoch', 'classes'):
        if key not in record:
            raise ValueError(f'ROC record for {out_file} lacks {key!r}, got '
                             f'keys {sorted(record)!r}')
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with open(out_file, 'w') as f:
        json.dump(to_json_safe(record), f, indent=1, allow_nan=False)
    return out_file


def load_roc_json(path: str | Path) -> dict:
    """Read a ROC record, checking each curve's ``fpr``/``tpr``."""
    path = Path(path)
    with open(path) as f:
        record = json.load(f)
    classes = record.get('classes') if isinstance(record, dict) else None
    if not isinstance(classes, dict):
        raise ValueError(f'{path}: expected an object with "classes", got '
                         f'{type(record).__name__} {str(record)[:80]!r}')
    for name, curve in classes.items():
        if not isinstance(curve, dict) or len(curve.get('fpr', ())) != len(
                curve.get('tpr', ())) or 'fpr' not in curve:
            raise ValueError(f'{path}: class {name!r} needs fpr and tpr of '
                             f'the same length, got {str(curve)[:80]!r}')
        if curve.get('auc') is None:
            curve['auc'] = math.nan
    return record


def latest_roc_json(work_dir: str | Path) -> Path | None:
    """The most recently written ``<work_dir>/roc/*.json``, or None."""
    files = list(Path(work_dir).glob('roc/*.json'))
    if not files:
        return None
    return max(files, key=lambda p: (p.stat().st_mtime_ns, p.name))
