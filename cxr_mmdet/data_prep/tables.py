# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Readers for the NIH ChestX-ray14 and VinBigData annotation tables.

Each reader returns a *box table* (one row per annotation, the columns of
:data:`BOX_COLUMNS`) and a :class:`collections.Counter` of the rows it
dropped, keyed by reason. Coordinates are floats in the pixel frame of the
source image file, 0-based pixel edges: ``x0, y0`` is the top-left corner and
``x1, y1`` the bottom-right corner, so a box covering the first pixel only is
``(0, 0, 1, 1)``.

Box table columns:

- ``image_id``: output id, the file name without its image extension.
- ``file_name``: the name to look for in the image folder.
- ``source``: ``'nih'`` or ``'vinbig'``.
- ``group``: the unit that must not straddle splits (NIH: ``nih:<patient>``,
  VinBig: ``vinbig:<image_id>``).
- ``reader``: who drew the box (VinBig ``rad_id``; ``'nih'`` for NIH).
- ``label``: the source label as written in the table.
- ``x0, y0, x1, y1``: float coordinates (NaN for VinBig ``No finding``).
"""
from __future__ import annotations

import os
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from cxr_mmdet.classes import VINBIG_NO_FINDING

BOX_COLUMNS: tuple[str, ...] = ('image_id', 'file_name', 'source', 'group',
                                'reader', 'label', 'x0', 'y0', 'x1', 'y1')
COORD_COLUMNS: tuple[str, ...] = ('x0', 'y0', 'x1', 'y1')

#: File extensions stripped from a name to form its image id.
IMAGE_EXTENSIONS: tuple[str, ...] = ('.png', '.jpg', '.jpeg', '.dicom', '.dcm')

NIH_ID_COLUMN = 'Image Index'
NIH_LABEL_COLUMN = 'Finding Label'
NIH_PATIENT_COLUMN = 'Patient ID'
VINBIG_COLUMNS: tuple[str, ...] = ('image_id', 'class_name', 'rad_id', 'x_min',
                                   'y_min', 'x_max', 'y_max')


def _read_csv_as_text(path: str | os.PathLike,
                      required: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) with every cell as stripped text.

    Raises:
        ValueError: naming the file, when it is missing, empty, truncated
            (a ``.gz`` cut short), not parseable as CSV or lacks a column
            of ``required`` (naming them and the file's columns).
    """
    name = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f'{name}: no such CSV file')
    if os.path.getsize(path) == 0:
        raise ValueError(f'{name}: the CSV file is empty (0 bytes)')
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as err:
        raise ValueError(f'{name}: the CSV file has no header row '
                         f'({err})') from err
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(f'{name}: cannot parse as CSV: {err}') from err
    except (EOFError, OSError, zlib.error) as err:
        # gzip/bz2/xz cut short, or not compressed at all
        raise ValueError(f'{name}: cannot read the (compressed) file, '
                         f'truncated or corrupt: {type(err).__name__}: '
                         f'{err}') from err
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise _missing_columns_error(path, missing, frame.columns)
    return frame


def _missing_columns_error(path, missing, columns) -> ValueError:
    return ValueError(f'{os.fspath(path)}: missing columns {list(missing)!r};'
                      f' got columns {list(columns)!r}')


def strip_image_extension(name: str) -> str:
    """Return ``name`` without a known image extension.

    >>> strip_image_extension('00013118_008.png')
    '00013118_008'
    >>> strip_image_extension('abc')
    'abc'
    """
    lower = name.lower()
    for ext in IMAGE_EXTENSIONS:
        if lower.endswith(ext) and len(name) > len(ext):
            return name[:-len(ext)]
    return name


def parse_coordinates(text: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """Turn text cells into floats and name what is wrong with each row.

    Args:
        text (pd.DataFrame): ``(N, 4)`` text cells.

    Returns:
        tuple: ``values`` of shape ``(N, 4)`` (NaN where unusable) and a
        Series of reasons per row: ``''`` (all four finite numbers),
        ``'missing_coordinates'`` (a cell is empty or NaN),
        ``'non_numeric_coordinates'`` or ``'non_finite_coordinates'``.
    """
    stripped = text.apply(lambda col: col.astype(str).str.strip())
    empty = stripped.isin(['', 'nan', 'NaN', 'NA', 'N/A', 'None']).to_numpy()
    numbers = stripped.apply(pd.to_numeric, errors='coerce')
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    non_numeric = np.isnan(values) & ~empty
    non_finite = np.isinf(values)
    reason = np.full(len(text), '', dtype=object)
    reason[non_finite.any(axis=1)] = 'non_finite_coordinates'
    reason[empty.any(axis=1)] = 'missing_coordinates'
    reason[non_numeric.any(axis=1)] = 'non_numeric_coordinates'
    values = np.where(np.isfinite(values), values, np.nan)
    return values, pd.Series(reason, index=text.index)


def normalise_patient_id(value: str) -> str:
    """Return a canonical patient id (leading zeros dropped from numbers).

    ``Data_Entry_2017`` writes ``1`` where the file name says ``00000001``;
    both must name the same patient.

    >>> normalise_patient_id('00000001')
    '1'
    >>> normalise_patient_id(' p12 ')
    'p12'
    """
    value = str(value).strip()
    return str(int(value)) if value.isdigit() else value


def nih_patient_from_name(image_index: str) -> str:
    """Return the patient id encoded in an NIH file name.

    The NIH names images ``<patient>_<follow-up>.png``; a name without ``_``
    is its own patient.

    >>> nih_patient_from_name('00013118_008.png')
    '13118'
    """
    stem = strip_image_extension(image_index)
    return normalise_patient_id(stem.split('_', 1)[0] if '_' in stem else stem)


def read_nih_patient_ids(path: str | os.PathLike) -> dict[str, str]:
    """Read ``Image Index -> Patient ID`` from ``Data_Entry_2017*.csv``.

    Raises:
        ValueError: If the file lacks ``Image Index`` or ``Patient ID``.
    """
    return _nih_patient_ids(
        _read_csv_as_text(path, (NIH_ID_COLUMN, NIH_PATIENT_COLUMN)))


def _nih_patient_ids(frame: pd.DataFrame) -> dict[str, str]:
    """``Image Index -> Patient ID`` of the rows naming both."""
    names = frame[NIH_ID_COLUMN].str.strip()
    patients = frame[NIH_PATIENT_COLUMN].map(normalise_patient_id)
    keep = (names != '') & (patients != '')
    return dict(zip(names[keep], patients[keep]))


def _nih_box_columns(path, columns: list[str]) -> list[str]:
    """Find the ``x, y, w, h`` columns of an NIH box list.

    The real file's header reads
    ``Image Index,Finding Label,Bbox [x,y,w,h],,,`` so the four numbers sit
    in the columns named ``Bbox [x``, ``y``, ``w``, ``h]`` (then three empty
    names). A clean header ``x,y,w,h`` works too.
    """
    for i, name in enumerate(columns):
        if name.lower().startswith('bbox') and i + 4 <= len(columns):
            return columns[i:i + 4]
    lowered = {c.lower(): c for c in columns}
    wanted = ('x', 'y', 'w', 'h')
    if all(w in lowered for w in wanted):
        return [lowered[w] for w in wanted]
    raise _missing_columns_error(path, ['Bbox [x, y, w, h]'], columns)


def read_nih_boxes(
    path: str | os.PathLike,
    patient_ids: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, Counter]:
    """Read NIH ``BBox_List_2017.csv`` into a box table.

    Args:
        path: The CSV (``.csv`` or ``.csv.gz``).
        patient_ids: Optional ``Image Index -> patient`` map (from
            :func:`read_nih_patient_ids`); images it lacks take the patient
            from their file name.

    Returns:
        tuple: The box table and the dropped-row counter (reasons
        ``missing_image_id``, ``missing_label``, ``missing_coordinates``,
        ``non_numeric_coordinates``, ``non_finite_coordinates``).

    Raises:
        ValueError: If a required column is missing (naming file and
            columns) or the file is not CSV.
    """
    frame = _read_csv_as_text(path, (NIH_ID_COLUMN, NIH_LABEL_COLUMN))
    columns = list(frame.columns)
    xywh = _nih_box_columns(path, columns)
    names = frame[NIH_ID_COLUMN].astype(str).str.strip()
    labels = frame[NIH_LABEL_COLUMN].astype(str).str.strip()
    values, reason = parse_coordinates(frame[xywh])
    reason[labels == ''] = 'missing_label'
    reason[names == ''] = 'missing_image_id'
    dropped = Counter(reason[reason != ''].tolist())
    keep = (reason == '').to_numpy()
    names, labels, values = names[keep], labels[keep], values[keep]
    patient_ids = patient_ids or {}
    groups = [
        'nih:' + (patient_ids[n] if n in patient_ids else
                  nih_patient_from_name(n)) for n in names
    ]
    boxes = pd.DataFrame({
        'image_id': [strip_image_extension(n) for n in names],
        'file_name': names.to_numpy(),
        'source': 'nih',
        'group': groups,
        'reader': 'nih',
        'label': labels.to_numpy(),
        'x0': values[:, 0],
        'y0': values[:, 1],
        'x1': values[:, 0] + values[:, 2],
        'y1': values[:, 1] + values[:, 3],
    })
    return boxes, dropped


def read_vinbig_rows(path: str | os.PathLike) -> tuple[pd.DataFrame, Counter]:
    """Read VinBigData ``train.csv`` into a box table.

    ``No finding`` rows keep NaN coordinates (they carry a reader's verdict,
    not a box); any other row needs four numbers.

    Returns:
        tuple: The box table and the dropped-row counter (reasons
        ``missing_image_id``, ``missing_label``, ``missing_reader``,
        ``missing_coordinates``, ``non_numeric_coordinates``,
        ``non_finite_coordinates``).

    Raises:
        ValueError: If a required column is missing (naming file and
            columns) or the file is not CSV.
    """
    frame = _read_csv_as_text(path, VINBIG_COLUMNS)
    ids = frame['image_id'].astype(str).str.strip()
    labels = frame['class_name'].astype(str).str.strip()
    readers = frame['rad_id'].astype(str).str.strip()
    values, reason = parse_coordinates(
        frame[['x_min', 'y_min', 'x_max', 'y_max']])
    no_finding = (labels == VINBIG_NO_FINDING).to_numpy()
    reason[no_finding] = ''
    values[no_finding] = np.nan
    reason[readers == ''] = 'missing_reader'
    reason[labels == ''] = 'missing_label'
    reason[ids == ''] = 'missing_image_id'
    dropped = Counter(reason[reason != ''].tolist())
    keep = (reason == '').to_numpy()
    ids = ids[keep].to_numpy()
    boxes = pd.DataFrame({
        'image_id': [strip_image_extension(i) for i in ids],
        'file_name': ids,
        'source': 'vinbig',
        'group': ['vinbig:' + i for i in ids],
        'reader': readers[keep].to_numpy(),
        'label': labels[keep].to_numpy(),
        'x0': values[keep, 0],
        'y0': values[keep, 1],
        'x1': values[keep, 2],
        'y1': values[keep, 3],
    })
    return boxes, dropped


_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
#: The longest image id or file name accepted: file systems allow 255
#: bytes a name, and the outputs add an extension (``.xml``, ``.png``).
MAX_IMAGE_ID_LENGTH = 200


def is_safe_image_id(name: str) -> bool:
    """Whether ``name`` can be used as a file name inside the output.

    Only letters, digits, ``.``, ``_`` and ``-`` are allowed, the first
    character must be a letter or digit, and ``..`` may not appear, so no id
    can name a parent folder, an absolute path or a hidden file; nor may it
    be longer than :data:`MAX_IMAGE_ID_LENGTH` characters.

    >>> is_safe_image_id('00013118_008.png')
    True
    >>> is_safe_image_id('../x'), is_safe_image_id('/etc/passwd')
    (False, False)
    >>> is_safe_image_id('a' * 300)
    False
    """
    return (len(name) <= MAX_IMAGE_ID_LENGTH and bool(_SAFE_ID.match(name))
            and '..' not in name)


def reject_unsafe_ids(boxes: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop rows whose image id or file name could escape a folder.

    Returns:
        tuple: The kept rows and the sorted list of rejected file names.
    """
    safe = boxes['file_name'].map(is_safe_image_id) & boxes['image_id'].map(
        is_safe_image_id)
    rejected = sorted(set(boxes.loc[~safe, 'file_name'].tolist()))
    return boxes[safe].reset_index(drop=True), rejected


def drop_duplicate_rows(boxes: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Drop exact repeats of a row (same image, reader, label and box).

    A reader cannot mean the same box twice, so a repeat is a copy error;
    the first copy is kept and the repeats are counted.

    Returns:
        tuple: The de-duplicated rows and the number of rows dropped.
    """
    key = ['image_id', 'reader', 'label', *COORD_COLUMNS]
    repeated = boxes.duplicated(subset=key, keep='first')
    return boxes[~repeated].reset_index(drop=True), int(repeated.sum())
