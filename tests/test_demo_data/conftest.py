# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fixtures of the demo-data tests: the real tables and small demo runs."""
from __future__ import annotations

import importlib.metadata

import pytest

#: Options of the small demo run shared by the tests (seconds, not more).
SMALL_RUN = dict(num_images=24, seed=3, long_side=256, num_dicom=4)


def _require_xrv() -> None:
    try:
        importlib.metadata.distribution('torchxrayvision')
    except importlib.metadata.PackageNotFoundError:
        pytest.skip('the demo draws rows from the tables shipped in '
                    'torchxrayvision, which is not installed')


@pytest.fixture(scope='session')
def source_tables():
    """The real NIH box list and VinBig table, as the demo reads them."""
    _require_xrv()
    from cxr_mmdet.demo_data.sample_rows import (read_nih_bbox_list,
                                                 read_vinbig_table)
    from cxr_mmdet.demo_data.xrv_tables import (NIH_BBOX_TABLE, VINBIG_TABLE,
                                                find_xrv_table)
    return (read_nih_bbox_list(find_xrv_table(NIH_BBOX_TABLE)),
            read_vinbig_table(find_xrv_table(VINBIG_TABLE)))


@pytest.fixture(scope='session')
def small_demo(tmp_path_factory):
    """(root, manifest) of one small demo run."""
    _require_xrv()
    from cxr_mmdet.demo_data import make_demo_dataset
    root = tmp_path_factory.mktemp('demo_a')
    return root, make_demo_dataset(root, **SMALL_RUN)


@pytest.fixture(scope='session')
def small_demo_again(tmp_path_factory):
    """(root, manifest) of a second run with the same options."""
    _require_xrv()
    from cxr_mmdet.demo_data import make_demo_dataset
    root = tmp_path_factory.mktemp('demo_b')
    return root, make_demo_dataset(root, **SMALL_RUN)
