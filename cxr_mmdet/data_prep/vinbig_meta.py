# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Original image sizes of resized VinBig exports (``--vinbig-meta``).

The common PNG exports of VinBigData at 1024 px or smaller ship a table
``image_id, dim0, dim1``: the original DICOM height and width, the frame
``train.csv``'s boxes are in.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .tables import _read_csv_as_text

META_COLUMNS: tuple[str, ...] = ('image_id', 'dim0', 'dim1')


def read_vinbig_meta(
        path: str | os.PathLike) -> dict[str, tuple[float, float]]:
    """Read ``image_id -> (width, height)`` of the original frames.

    Raises:
        ValueError: On missing columns, or a row whose ``dim0``/``dim1`` is
            not a positive finite number or whose image id repeats (naming
            the file, the row and the value).
    """
    frame = _read_csv_as_text(path, META_COLUMNS)
    ids = frame['image_id'].str.strip()
    dims = frame[['dim0', 'dim1']].apply(pd.to_numeric, errors='coerce')
    values = dims.to_numpy(float)
    bad = ~(np.isfinite(values) & (values > 0)).all(axis=1) | (ids == '')
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f'{os.fspath(path)}: row {row + 2} (image_id '
            f'{frame["image_id"].iloc[row]!r}) needs positive dim0 (height) '
            f'and dim1 (width), got {frame["dim0"].iloc[row]!r}, '
            f'{frame["dim1"].iloc[row]!r}')
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise ValueError(f'{os.fspath(path)}: image ids listed twice: '
                         f'{sorted(set(repeated))[:10]!r}')
    return {i: (float(w), float(h))
            for i, h, w in zip(ids, values[:, 0], values[:, 1])}
