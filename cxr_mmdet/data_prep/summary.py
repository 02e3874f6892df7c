# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""``summary.json``: what a preparation run read, kept, dropped and wrote.

It also proves that a folder is this tool's output
(:func:`is_prepared_output`), the condition for ``--overwrite``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES

from .split import SPLITS
from .stages import class_flags
from .voc_writer import ANNOTATIONS, IMAGE_SETS, IMAGES, VOC_ROOT

SUMMARY_NAME = 'summary.json'
#: ``summary.json``'s ``generator``: marks the folder as this tool's.
GENERATOR = 'cxr_mmdet.data_prep'
#: What this tool writes at the top of its output folder.
OUTPUT_ENTRIES = frozenset({'VOCdevkit', 'labels.csv', SUMMARY_NAME})


def labels_without_boxes(images: pd.DataFrame,
                         boxes: pd.DataFrame) -> pd.DataFrame:
    """0/1 frame (index image id, a column per class): labelled, no box."""
    ids = images['image_id']
    labels = images.set_index('image_id')[list(CXR_CLASSES)].astype(int)
    boxed = class_flags(boxes[boxes['image_id'].isin(set(ids))], ids)
    return (labels & (1 - boxed)).astype(int)


def summarise_splits(images: pd.DataFrame, boxes: pd.DataFrame) -> dict:
    """Per split: images (positive, negative, per source), groups, and per
    class the boxes, the images labelled with it and the images labelled
    with it that have no box of it (``labels_without_boxes``)."""
    out = {}
    split_of = dict(zip(images['image_id'], images['split']))
    box_split = boxes['image_id'].map(split_of)
    boxless = labels_without_boxes(images, boxes)
    for split in SPLITS:
        part = images[images['split'] == split]
        positive = part[list(CXR_CLASSES)].to_numpy().any(axis=1)
        split_boxes = boxes[box_split == split]
        counts = split_boxes['class_name'].value_counts()
        missing = boxless.loc[part['image_id']]
        out[split] = {
            'images': int(len(part)),
            'positive_images': int(positive.sum()),
            'negative_images': int((~positive).sum()),
            'images_per_source': {
                k: int(v)
                for k, v in part['source'].value_counts().sort_index().items()
            },
            'groups': int(part['group'].nunique()),
            'boxes': int(len(split_boxes)),
            'boxes_per_class': {c: int(counts.get(c, 0))
                                for c in CXR_CLASSES},
            'images_per_class': {c: int(part[c].sum()) for c in CXR_CLASSES},
            'labels_without_boxes': {c: int(missing[c].sum())
                                     for c in CXR_CLASSES},
        }
    return out


def write_summary(folder: Path, summary: dict) -> None:
    """Write ``folder/summary.json`` (with the generator mark)."""
    summary = {'generator': GENERATOR, **summary}
    with open(folder / SUMMARY_NAME, 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=2, default=str)


def is_prepared_output(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds exactly what this tool writes.

    Its ``summary.json`` carries :data:`GENERATOR` (or, written before the
    mark, this tool's ``arguments`` and ``coordinate_convention``), its
    top level holds
    only :data:`OUTPUT_ENTRIES`, and ``VOCdevkit/VOC2007`` holds only the
    three VOC folders.
    """
    folder = Path(folder)
    try:
        with open(folder / SUMMARY_NAME, encoding='utf-8') as f:
            summary = json.load(f)
        entries = {p.name for p in folder.iterdir()}
        voc = {p.name for p in (folder / VOC_ROOT).iterdir()}
        top = {p.name for p in (folder / 'VOCdevkit').iterdir()}
    except (OSError, ValueError):
        return False
    return (isinstance(summary, dict)
            and (summary.get('generator') == GENERATOR
                 or {'arguments', 'coordinate_convention'} <= set(summary))
            and entries <= OUTPUT_ENTRIES
            and top == {VOC_ROOT.name}
            and voc <= {ANNOTATIONS, IMAGES, IMAGE_SETS.parts[0]})
