# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The six target classes and the maps from each source's labels onto them.

The maps are data: ``tools/dataset_converters/prepare_data.py --label-map
FILE`` replaces them.
Source labels outside a map are not silently lost: data preparation counts
every such row under its reason.
"""
from __future__ import annotations

import re

#: The six classes, in label-index order (index 0 is Cardiomegaly).
CXR_CLASSES: tuple[str, ...] = (
    'Cardiomegaly',
    'Pleural thickening',
    'Pulmonary fibrosis',
    'Pleural effusion',
    'Nodule/Mass',
    'Infiltration',
)

#: One RGB colour per class, for visualisation (mmdet ``metainfo['palette']``).
CXR_PALETTE: list[tuple[int, int, int]] = [
    (220, 20, 60),
    (0, 128, 255),
    (255, 165, 0),
    (50, 205, 50),
    (186, 85, 211),
    (255, 215, 0),
]

#: NIH ChestX-ray14 label -> class, for the box list's ``Finding Label``
#: and ``Data_Entry_2017``'s ``Finding Labels`` (the image labels). The box
#: list spells it ``Infiltrate``, ``Data_Entry`` ``Infiltration``: both
#: map. ``Fibrosis`` and ``Pleural_Thickening`` occur in ``Data_Entry``
#: only (the box list has no such boxes).
NIH_LABEL_MAP: dict[str, str] = {
    'Cardiomegaly': 'Cardiomegaly',
    'Effusion': 'Pleural effusion',
    'Fibrosis': 'Pulmonary fibrosis',
    'Pleural_Thickening': 'Pleural thickening',
    'Infiltrate': 'Infiltration',
    'Infiltration': 'Infiltration',
    'Mass': 'Nodule/Mass',
    'Nodule': 'Nodule/Mass',
}

#: VinBigData ``train.csv`` ``class_name`` -> class (same names).
VINBIG_LABEL_MAP: dict[str, str] = {name: name for name in CXR_CLASSES}

#: VinBig's label for an image a reader found normal (a row without a box).
VINBIG_NO_FINDING = 'No finding'

#: Source -> the ``<source><database>`` name the VOC annotations carry.
SOURCE_DATABASES: dict[str, str] = {
    'nih': 'NIH ChestX-ray14',
    'vinbig': 'VinBigData'
}


def class_key(name: str) -> str:
    """Return a metric/file-safe key for a class name.

    >>> class_key('Nodule/Mass')
    'Nodule_Mass'
    >>> class_key('Pleural thickening')
    'Pleural_thickening'
    """
    return re.sub(r'[^0-9A-Za-z]+', '_', name).strip('_')
