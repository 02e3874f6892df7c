# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Map source labels onto the six classes.

The default maps live in :mod:`cxr_mmdet.classes`. A JSON file passed to
``tools/dataset_converters/prepare_data.py --label-map`` replaces the map
of each source it names::

    {"nih": {"Infiltrate": "Infiltration", "Mass": "Nodule/Mass"},
     "vinbig": {"Cardiomegaly": "Cardiomegaly"}}

A source the file does not name keeps its default map.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping

import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES, NIH_LABEL_MAP, VINBIG_LABEL_MAP

SOURCES: tuple[str, ...] = ('nih', 'vinbig')


def default_label_maps() -> dict[str, dict[str, str]]:
    """Return a fresh copy of the default ``source -> {label: class}`` maps."""
    return {'nih': dict(NIH_LABEL_MAP), 'vinbig': dict(VINBIG_LABEL_MAP)}


def load_label_maps(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """Read a label-map JSON file over the defaults.

    Raises:
        ValueError: If the file is not a JSON object of
            ``source -> {label: class}``, names an unknown source, or maps
            onto a name outside :data:`CXR_CLASSES`.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: not valid JSON: {err}') from err
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a JSON object of source -> map, '
                         f'got {type(data).__name__}')
    maps = default_label_maps()
    for source, mapping in data.items():
        if source not in SOURCES:
            raise ValueError(f'{path}: unknown source {source!r}; expected '
                             f'one of {list(SOURCES)!r}')
        if not isinstance(mapping, dict):
            raise ValueError(f'{path}: map for {source!r} must be an object,'
                             f' got {mapping!r}')
        for label, target in mapping.items():
            if target not in CXR_CLASSES:
                raise ValueError(
                    f'{path}: {source!r} maps {label!r} onto {target!r}, '
                    f'which is not one of {list(CXR_CLASSES)!r}')
        maps[source] = {str(k): str(v) for k, v in mapping.items()}
    return maps


def apply_label_map(
    boxes: pd.DataFrame, mapping: Mapping[str, str]
) -> tuple[pd.DataFrame, Counter]:
    """Add ``class_name`` to box rows and drop rows outside the map.

    Args:
        boxes (pd.DataFrame): Box table of one source (``label`` column).
        mapping: ``source label -> class``.

    Returns:
        tuple: The mapped rows (with a ``class_name`` column) and a counter
        of the unmapped rows per source label.
    """
    class_name = boxes['label'].map(mapping)
    unmapped = class_name.isna()
    counts = Counter(boxes.loc[unmapped, 'label'].tolist())
    mapped = boxes[~unmapped].copy()
    mapped['class_name'] = class_name[~unmapped].astype(str)
    return mapped.reset_index(drop=True), counts
