# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Locate the public annotation tables shipped in ``torchxrayvision``.

The PyPI package ``torchxrayvision`` carries the NIH ChestX-ray14 and
VinBigData tables in its ``data/`` folder. Importing the package pulls in
torch and torchvision, so the files are found through the installed
distribution's file list (:mod:`importlib.metadata`) instead.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

#: The distribution that ships the tables.
XRV_DISTRIBUTION = 'torchxrayvision'

#: Table file names used by this project.
NIH_BBOX_TABLE = 'BBox_List_2017.csv.gz'
NIH_DATA_ENTRY_TABLE = 'Data_Entry_2017_v2020.csv.gz'
VINBIG_TABLE = 'vinbigdata-train.csv.gz'


def find_xrv_table(name: str) -> Path:
    """Return the path of a data file shipped in ``torchxrayvision``.

    Args:
        name (str): File name inside ``torchxrayvision/data/``, e.g.
            ``'BBox_List_2017.csv.gz'``.

    Returns:
        Path: Absolute path of the existing file.

    Raises:
        FileNotFoundError: If the distribution is not installed or does not
            hold the file. The message says how to install it.
    """
    hint = ('it is the requirement of cxr_mmdet.demo_data: install it '
            'with `pip install --no-deps -r requirements/demo.txt` (or '
            '`pip install cxr_mmdet[demo]`; its data files are enough)')
    try:
        files = importlib.metadata.files(XRV_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f'The {XRV_DISTRIBUTION!r} distribution is not installed, so '
            f'its table {name!r} cannot be found: {hint}') from None
    for entry in files or ():
        parts = entry.parts
        if len(parts) >= 2 and parts[-2] == 'data' and parts[-1] == name:
            path = Path(entry.locate()).resolve()
            if path.is_file():
                return path
    raise FileNotFoundError(
        f'{XRV_DISTRIBUTION!r} is installed but holds no data file {name!r}'
        f' (a truncated or different install?): {hint}')
