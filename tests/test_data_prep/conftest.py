# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fixtures for data preparation: the real tables and tiny images."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from cxr_mmdet.demo_data.xrv_tables import (NIH_BBOX_TABLE,
                                            NIH_DATA_ENTRY_TABLE, VINBIG_TABLE,
                                            find_xrv_table)


def read_csv_rows(path: Path) -> list[list[str]]:
    """Read a (gzipped) CSV with the csv module: an independent reader."""
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'rt', newline='') as f:
        return list(csv.reader(f))


@pytest.fixture(scope='session')
def nih_table() -> Path:
    return find_xrv_table(NIH_BBOX_TABLE)


@pytest.fixture(scope='session')
def nih_data_entry() -> Path:
    return find_xrv_table(NIH_DATA_ENTRY_TABLE)


@pytest.fixture(scope='session')
def vinbig_table() -> Path:
    return find_xrv_table(VINBIG_TABLE)


@pytest.fixture(scope='session')
def real_tables(nih_table, nih_data_entry, vinbig_table) -> dict:
    """Both real tables read once: ``{'tables', 'drops'}``."""
    from cxr_mmdet.data_prep import (read_nih_boxes, read_nih_data_entry,
                                     read_vinbig_rows)
    patients, findings = read_nih_data_entry(nih_data_entry)
    nih, nih_drops = read_nih_boxes(nih_table, patients)
    vinbig, vinbig_drops = read_vinbig_rows(vinbig_table)
    return {
        'tables': {
            'nih': nih,
            'vinbig': vinbig
        },
        'drops': {
            'nih': nih_drops,
            'vinbig': vinbig_drops
        },
        'patients': patients,
        'findings': findings,
    }


@pytest.fixture(scope='session')
def real_sizes(real_tables) -> dict:
    from cxr_mmdet.testing import assumed_sizes
    return assumed_sizes(real_tables['tables'])


@pytest.fixture(scope='session')
def real_prepared(real_tables, real_sizes):
    """The table pipeline on the full real tables at default settings."""
    from cxr_mmdet.data_prep import prepare_tables
    return prepare_tables(
        real_tables['tables'],
        real_sizes,
        read_drops=real_tables['drops'],
        nih_findings=real_tables['findings'])
