# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image sizes for the real annotation tables, which ship without images."""
from __future__ import annotations

import numpy as np


def assumed_sizes(tables: dict) -> dict:
    """Image sizes for the real tables (no images ship with them).

    NIH: 1024 x 1024 (the released PNGs). VinBig: the smallest image that
    holds all of the image's boxes (ceil of its largest x_max, y_max).
    Fusion is scale-invariant, so the fused boxes do not depend on it.
    """
    sizes = {i: (1024, 1024) for i in tables['nih']['image_id']}
    vinbig = tables['vinbig'].dropna(subset=['x1'])
    extent = vinbig.groupby('image_id')[['x1', 'y1']].max()
    sizes.update({
        i: (int(np.ceil(x)), int(np.ceil(y)))
        for i, x, y in zip(extent.index, extent['x1'], extent['y1'])
    })
    return sizes


def write_vinbig_csv(path, rows) -> None:
    """Write a VinBigData ``train.csv``: one row per box, ``(image_id,
    class_name, rad_id, x_min, y_min, x_max, y_max)`` (empty coordinates
    for ``No finding``)."""
    import pandas as pd

    from ..data_prep.tables import VINBIG_COLUMNS
    pd.DataFrame(rows, columns=list(VINBIG_COLUMNS)).to_csv(path, index=False)
