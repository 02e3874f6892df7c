# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write Pascal VOC annotations, image sets and the label table.

Coordinate convention. Inside data preparation a box is ``(x0, y0, x1,
y1)`` in 0-based *pixel-edge* coordinates: the image spans ``[0, W] x [0,
H]`` and a box covering only the first pixel is ``(0, 0, 1, 1)``. VOC XML is
1-based, so the writer adds 1 to all four corners::

    xmin = x0 + 1    ymin = y0 + 1    xmax = x1 + 1    ymax = y1 + 1

and a reader recovers the box exactly by subtracting 1 from each
(:class:`cxr_mmdet.datasets.CXRVOCDataset` does). Width and height are
``xmax - xmin`` and ``ymax - ymin``. Coordinates are written as floats with
4 decimals (no integer truncation).
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES, SOURCE_DATABASES

#: Folder names inside the output (mmdet's VOC layout).
VOC_ROOT = Path('VOCdevkit', 'VOC2007')
ANNOTATIONS = 'Annotations'
IMAGES = 'JPEGImages'
IMAGE_SETS = Path('ImageSets', 'Main')

def _text(parent: ET.Element, tag: str, text: object) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = str(text)
    return child


def voc_annotation(filename: str,
                   width: int,
                   height: int,
                   objects: Iterable[tuple[str, float, float, float, float]],
                   source: str | None = None,
                   depth: int = 1,
                   image_labels: Iterable[str] | None = None,
                   group: str | None = None) -> ET.ElementTree:
    """Build a VOC ``<annotation>`` tree.

    Args:
        filename (str): Image file name (``<id>.png``) under ``JPEGImages``.
        width (int): Image width in pixels.
        height (int): Image height in pixels.
        objects: ``(class_name, x0, y0, x1, y1)`` per box, 0-based pixel
            edges (see the module docstring for the VOC conversion).
        source (str, optional): ``'nih'`` or ``'vinbig'``.
        depth (int): Channels of the written image (1: grayscale PNG).
        image_labels: Every class the image is labelled with (its boxes'
            and any others), written as ``<image_labels><name>...``; None
            writes no element (readers then take the boxes' classes).
        group (str, optional): The image's group (NIH ``nih:<patient>``,
            VinBig ``vinbig:<image_id>``: the unit kept inside one split and
            resampled as one by the evaluation's bootstrap), written as
            ``<source><group>``; needs ``source``.
    """
    root = ET.Element('annotation')
    _text(root, 'folder', 'VOC2007')
    _text(root, 'filename', filename)
    if source is not None:
        src = ET.SubElement(root, 'source')
        _text(src, 'database', SOURCE_DATABASES.get(source, source))
        if group is not None:
            _text(src, 'group', group)
    elif group is not None:
        raise ValueError(f'{filename}: a group ({group!r}) needs a source')
    size = ET.SubElement(root, 'size')
    _text(size, 'width', int(width))
    _text(size, 'height', int(height))
    _text(size, 'depth', int(depth))
    _text(root, 'segmented', 0)
    if image_labels is not None:
        labels = ET.SubElement(root, 'image_labels')
        for name in image_labels:
            if name not in CXR_CLASSES:
                raise ValueError(f'{filename}: image label {name!r} is not '
                                 f'one of {list(CXR_CLASSES)!r}')
            _text(labels, 'name', name)
    for name, x0, y0, x1, y1 in objects:
        if name not in CXR_CLASSES:
            raise ValueError(f'{filename}: object class {name!r} is not one '
                             f'of {list(CXR_CLASSES)!r}')
        obj = ET.SubElement(root, 'object')
        _text(obj, 'name', name)
        _text(obj, 'pose', 'Unspecified')
        _text(obj, 'truncated', 0)
        _text(obj, 'difficult', 0)
        box = ET.SubElement(obj, 'bndbox')
        for tag, value in (('xmin', x0 + 1), ('ymin', y0 + 1),
                           ('xmax', x1 + 1), ('ymax', y1 + 1)):
            _text(box, tag, f'{float(value):.4f}')
    ET.indent(root, space='  ')
    return ET.ElementTree(root)


def write_voc_annotation(path: str | os.PathLike, *args, **kwargs) -> None:
    """Write :func:`voc_annotation` to ``path`` (UTF-8, XML declaration)."""
    voc_annotation(*args, **kwargs).write(
        path, encoding='utf-8', xml_declaration=True)


def write_image_sets(folder: str | os.PathLike,
                     splits: Mapping[str, Sequence[str]]) -> None:
    """Write ``<folder>/<split>.txt`` with one image id a line (sorted).

    Given ``train`` and ``val``, ``trainval.txt`` (their union) is written
    too, for VOC tools.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    splits = dict(splits)
    if 'train' in splits and 'val' in splits and 'trainval' not in splits:
        splits['trainval'] = [*splits['train'], *splits['val']]
    for split, ids in splits.items():
        text = ''.join(f'{i}\n' for i in sorted(ids))
        (folder / f'{split}.txt').write_text(text, encoding='utf-8')


def write_labels_csv(path: str | os.PathLike, images: pd.DataFrame) -> None:
    """Write ``image_id, split, source`` and a 0/1 column per class.

    Args:
        path: Output CSV.
        images (pd.DataFrame): One row per image with those columns (class
            columns named by :data:`CXR_CLASSES`).
    """
    columns = ['image_id', 'split', 'source', *CXR_CLASSES]
    table = images[columns].sort_values(['split', 'image_id'])
    table = table.astype({c: int for c in CXR_CLASSES})
    table.to_csv(path, index=False)
