# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Draw real annotation rows for the demo dataset.

The NIH ChestX-ray14 box list (plus its ``Data_Entry_2017`` rows) and the
VinBigData ``train.csv`` ship in the ``torchxrayvision`` package. The demo
keeps their rows as they are (all rows of a chosen image, all readers) and
only scales the box coordinates to the smaller synthetic image.

Everything here is pure: tables in, tables (or plain records) out.
"""
from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxr_mmdet.classes import (CXR_CLASSES, NIH_LABEL_MAP, VINBIG_LABEL_MAP,
                               VINBIG_NO_FINDING)

#: The header of the real ``BBox_List_2017.csv`` (malformed on purpose:
#: the box is one logical column split over four, plus three empty ones).
NIH_BBOX_HEADER = 'Image Index,Finding Label,Bbox [x,y,w,h],,,'

#: NIH released every image as a 1024x1024 PNG; its boxes are in that
#: frame (width, height).
NIH_FRAME: tuple[int, int] = (1024, 1024)

#: VinBig's table has no image sizes. Its boxes reach x 3131, y 3384 and
#: the median image's right/bottom-most box edge is near (1970, 1924), so
#: the demo assumes a portrait 2400x2880 (width, height) frame and widens
#: it per image (to a multiple of 16, 2% margin) where a box goes beyond.
VINBIG_BASE_FRAME: tuple[int, int] = (2400, 2880)

#: Columns of VinBig's ``train.csv`` in file order.
VINBIG_COLUMNS: tuple[str, ...] = ('image_id', 'class_name', 'class_id',
                                   'rad_id', 'x_min', 'y_min', 'x_max',
                                   'y_max')


def read_nih_bbox_list(path: str | Path) -> pd.DataFrame:
    """Read an NIH ``BBox_List_2017.csv`` into tidy columns.

    Returns:
        pd.DataFrame: ``image_index, finding_label, x, y, w, h`` (floats
        in the 1024x1024 frame), one row per box, in file order.
    """
    table = pd.read_csv(path, header=None, skiprows=1, usecols=range(6),
                        dtype={0: str, 1: str})
    table.columns = ['image_index', 'finding_label', 'x', 'y', 'w', 'h']
    bad = table[['x', 'y', 'w', 'h']].isna().any(axis=1)
    if bad.any():
        raise ValueError(f'{path}: box without coordinates at data row '
                         f'{int(np.flatnonzero(bad)[0]) + 1}, got '
                         f'{table[bad].iloc[0].to_dict()!r}')
    return table


def read_nih_data_entry_lines(path: str | Path,
                              image_names: set[str]
                              ) -> tuple[str, dict[str, str]]:
    """Return the header and the raw lines of ``Data_Entry_2017`` rows.

    Lines are kept verbatim so the demo file is a true excerpt.

    Args:
        path: the (optionally gzipped) Data_Entry table.
        image_names: the ``Image Index`` values wanted.

    Returns:
        tuple: the header line and ``{image_index: line}``.
    """
    opener = gzip.open if str(path).endswith('.gz') else open
    lines: dict[str, str] = {}
    with opener(path, 'rt', newline='') as f:
        header = f.readline().rstrip('\r\n')
        for line in f:
            name = line.split(',', 1)[0]
            if name in image_names:
                lines[name] = line.rstrip('\r\n')
    missing = sorted(image_names - set(lines))
    if missing:
        raise ValueError(f'{path}: no Data_Entry row for {len(missing)} '
                         f'images, got e.g. {missing[:3]!r}')
    return header, lines


def read_vinbig_table(path: str | Path) -> pd.DataFrame:
    """Read VinBig's ``train.csv`` (boxes NaN on 'No finding' rows)."""
    table = pd.read_csv(path, dtype={'image_id': str, 'class_name': str,
                                     'rad_id': str})
    missing = [c for c in VINBIG_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f'{path}: missing columns {missing!r}, got '
                         f'{list(table.columns)!r}')
    return table[list(VINBIG_COLUMNS)]


def vinbig_frame(rows: pd.DataFrame,
                 base: tuple[int, int] = VINBIG_BASE_FRAME
                 ) -> tuple[int, int]:
    """Choose the assumed original (width, height) of one VinBig image.

    ``base`` unless a box of ``rows`` reaches past it; then the side grows
    to cover the box plus 2%, rounded up to a multiple of 16.
    """
    width, height = base
    max_x = rows['x_max'].max()
    max_y = rows['y_max'].max()
    if not pd.isna(max_x) and max_x > width:
        width = int(math.ceil(max_x * 1.02 / 16) * 16)
    if not pd.isna(max_y) and max_y > height:
        height = int(math.ceil(max_y * 1.02 / 16) * 16)
    return width, height


@dataclass
class DemoImage:
    """One image chosen for the demo and why.

    Attributes:
        source: ``'nih'`` or ``'vinbig'``.
        image_id: NIH ``Image Index`` (with ``.png``) or VinBig
            ``image_id``.
        classes: the six-class names present in any of its rows.
        drawn_for: the class it was drawn to balance, or ``None`` for a
            negative (all readers 'No finding').
    """
    source: str
    image_id: str
    classes: tuple[str, ...]
    drawn_for: str | None


def _image_classes(table: pd.DataFrame, id_col: str, label_col: str,
                   label_map: dict[str, str]) -> dict[str, set[str]]:
    """Map each image id to the set of six-class names in its rows."""
    mapped = table[label_col].map(label_map)
    out: dict[str, set[str]] = {
        image_id: set()
        for image_id in table[id_col].unique()
    }
    for image_id, name in zip(table[id_col], mapped):
        if isinstance(name, str):
            out[image_id].add(name)
    return out


def small_box_images(nih_bbox: pd.DataFrame,
                     vinbig: pd.DataFrame,
                     min_box_size: float,
                     out_size: int = 300) -> set[tuple[str, str]]:
    """Images with a six-class box smaller than ``min_box_size`` pixels.

    The size of a box is ``sqrt(w * h)`` after the image is resized to
    ``out_size x out_size`` (what data preparation does by default); NIH
    frames are 1024x1024, VinBig frames come from :func:`vinbig_frame`.

    Returns:
        set[tuple[str, str]]: ``(source, image_id)`` pairs.
    """
    small: set[tuple[str, str]] = set()
    if min_box_size <= 0:
        return small
    nih = nih_bbox[nih_bbox['finding_label'].map(NIH_LABEL_MAP).notna()]
    scale = out_size / NIH_FRAME[0]
    size = np.sqrt(nih['w'] * nih['h']) * scale
    small.update(('nih', i) for i in nih['image_index'][size < min_box_size])
    vin = vinbig[vinbig['class_name'].map(VINBIG_LABEL_MAP).notna()]
    for image_id, rows in vin.groupby('image_id'):
        width, height = vinbig_frame(rows)
        size = np.sqrt((rows['x_max'] - rows['x_min']) * out_size / width *
                       (rows['y_max'] - rows['y_min']) * out_size / height)
        if bool((size < min_box_size).any()):
            small.add(('vinbig', image_id))
    return small


def sample_demo_images(nih_bbox: pd.DataFrame,
                       vinbig: pd.DataFrame,
                       num_images: int,
                       seed: int,
                       negative_fraction: float = 0.1,
                       nih_share: float = 0.5,
                       min_box_size: float = 0.0) -> list[DemoImage]:
    """Choose images balanced over the six classes.

    Greedy: the class in the fewest chosen images so far is drawn next
    (ties in class order); it comes from NIH with probability
    ``nih_share`` where NIH has boxes of it, else from VinBig; the image is
    random among the unused images with a row of that class. Every class
    in the image counts. ``round(num_images * negative_fraction)`` VinBig
    images that all readers called 'No finding' are added as negatives.

    Args:
        nih_bbox: from :func:`read_nih_bbox_list`.
        vinbig: from :func:`read_vinbig_table`.
        num_images: how many images in all (positives + negatives).
        seed: seed of the random draw.
        negative_fraction: share of all-'No finding' images, in [0, 1).
        nih_share: chance of NIH for a class both sources have, in [0, 1].
        min_box_size: skip positive images with a six-class box smaller
            than this many pixels at 300x300 (see :func:`small_box_images`);
            0 keeps every image.

    Returns:
        list[DemoImage]: positives in draw order, then negatives.
    """
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images!r}')
    if not 0 <= negative_fraction < 1:
        raise ValueError('negative_fraction must be in [0, 1), got '
                         f'{negative_fraction!r}')
    if not 0 <= nih_share <= 1:
        raise ValueError(f'nih_share must be in [0, 1], got {nih_share!r}')
    rng = np.random.default_rng(seed)
    nih_classes = _image_classes(nih_bbox, 'image_index', 'finding_label',
                                 NIH_LABEL_MAP)
    vin_classes = _image_classes(vinbig, 'image_id', 'class_name',
                                 VINBIG_LABEL_MAP)
    small = small_box_images(nih_bbox, vinbig, min_box_size)
    pools: dict[str, dict[str, list[str]]] = {
        name: {
            'nih': sorted(i for i, c in nih_classes.items()
                          if name in c and ('nih', i) not in small),
            'vinbig': sorted(i for i, c in vin_classes.items()
                             if name in c and ('vinbig', i) not in small),
        }
        for name in CXR_CLASSES
    }
    has_finding = (vinbig['class_name'] != VINBIG_NO_FINDING).groupby(
        vinbig['image_id']).any()
    negatives_pool = sorted(has_finding.index[~has_finding.to_numpy()])

    num_negatives = int(round(num_images * negative_fraction))
    num_positives = num_images - num_negatives
    used: set[tuple[str, str]] = set()
    counts = {name: 0 for name in CXR_CLASSES}
    exhausted: set[str] = set()
    chosen: list[DemoImage] = []
    while len(chosen) < num_positives:
        open_classes = [c for c in CXR_CLASSES if c not in exhausted]
        if not open_classes:
            raise ValueError('the source tables hold fewer than '
                             f'{num_positives} positive images')
        name = min(open_classes, key=lambda c: counts[c])
        sources = [
            s for s in ('nih', 'vinbig')
            if any((s, i) not in used for i in pools[name][s])
        ]
        if not sources:
            exhausted.add(name)
            continue
        if len(sources) == 2:
            source = 'nih' if rng.random() < nih_share else 'vinbig'
        else:
            source = sources[0]
        candidates = [
            i for i in pools[name][source] if (source, i) not in used
        ]
        image_id = candidates[int(rng.integers(len(candidates)))]
        used.add((source, image_id))
        classes = (nih_classes if source == 'nih' else vin_classes)[image_id]
        for c in classes:
            counts[c] += 1
        chosen.append(
            DemoImage(source=source, image_id=image_id,
                      classes=tuple(c for c in CXR_CLASSES if c in classes),
                      drawn_for=name))
    if num_negatives > len(negatives_pool):
        raise ValueError(f'asked for {num_negatives} negatives, VinBig has '
                         f'{len(negatives_pool)}')
    picks = rng.choice(len(negatives_pool), size=num_negatives,
                       replace=False)
    for k in sorted(int(p) for p in picks):
        chosen.append(DemoImage(source='vinbig',
                                image_id=negatives_pool[k], classes=(),
                                drawn_for=None))
    return chosen


def scale_nih_rows(rows: pd.DataFrame, sx: float,
                   sy: float) -> pd.DataFrame:
    """Scale the boxes of NIH rows from the 1024 frame by ``(sx, sy)``."""
    out = rows.copy()
    out['x'] = rows['x'] * sx
    out['w'] = rows['w'] * sx
    out['y'] = rows['y'] * sy
    out['h'] = rows['h'] * sy
    return out


def scale_vinbig_rows(rows: pd.DataFrame, sx: float,
                      sy: float) -> pd.DataFrame:
    """Scale the boxes of VinBig rows by ``(sx, sy)`` (NaN stays NaN)."""
    out = rows.copy()
    for col in ('x_min', 'x_max'):
        out[col] = rows[col] * sx
    for col in ('y_min', 'y_max'):
        out[col] = rows[col] * sy
    return out


def format_coord(value: float) -> str:
    """Format a box coordinate for the demo CSVs ('' for NaN).

    >>> format_coord(12.345678), format_coord(float('nan'))
    ('12.3457', '')
    """
    if pd.isna(value):
        return ''
    return repr(round(float(value), 4))


def nih_bbox_lines(rows: pd.DataFrame) -> list[str]:
    """Render rows as ``BBox_List_2017.csv`` lines (header first)."""
    lines = [NIH_BBOX_HEADER]
    for r in rows.itertuples(index=False):
        coords = ','.join(format_coord(v) for v in (r.x, r.y, r.w, r.h))
        lines.append(f'{r.image_index},{r.finding_label},{coords}')
    return lines


def vinbig_lines(rows: pd.DataFrame) -> list[str]:
    """Render rows as VinBig ``train.csv`` lines (header first)."""
    lines = [','.join(VINBIG_COLUMNS)]
    for r in rows.itertuples(index=False):
        coords = ','.join(
            format_coord(v) for v in (r.x_min, r.y_min, r.x_max, r.y_max))
        lines.append(f'{r.image_id},{r.class_name},{int(r.class_id)},'
                     f'{r.rad_id},{coords}')
    return lines
