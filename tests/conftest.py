# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Shared fixtures: tiny VOC trees written from scratch for each test
(:mod:`cxr_mmdet.testing`)."""
from __future__ import annotations

import sys

import pytest


@pytest.fixture
def voc_tree(tmp_path):
    """A tiny VOC tree in ``tmp_path/VOCdevkit``: (data_root, truth)."""
    from cxr_mmdet.testing import write_voc_tree
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(data_root)
    return data_root, truth


@pytest.fixture(autouse=True)
def _mmdet_default_scope():
    """Build through mmdet's registries in tests that use mmdet.

    Runners of other tests (default_scope='mmengine') change mmengine's
    current scope; mmdet's tools set 'mmdet' the same way.
    """
    if 'mmdet' in sys.modules:
        from mmengine.registry import init_default_scope
        init_default_scope('mmdet')
    yield
