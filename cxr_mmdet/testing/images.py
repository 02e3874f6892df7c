# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image files for tests and benchmarks: PNGs and 16-bit DICOMs."""
from __future__ import annotations

import os.path as osp
from pathlib import Path

import numpy as np


def write_png(path: str | Path, pixels: np.ndarray) -> Path:
    """Write an array as PNG (mode from dtype: uint8 'L', uint16 'I;16');
    the folder is created."""
    from PIL import Image
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def write_dicom(path: str | Path,
                pixels: np.ndarray,
                photometric: str = 'MONOCHROME1',
                window: tuple[float, float] | None = None,
                bits_stored: int = 16) -> Path:
    """Write an uncompressed grayscale DICOM (16 bits allocated) with
    :func:`cxr_mmdet.demo_data.write_dicom`; the folder is created."""
    from ..demo_data import write_dicom as write
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(
        path,
        np.asarray(pixels),
        photometric,
        window,
        image_id=osp.basename(str(path)),
        bits_stored=bits_stored)
