# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""data_prep stays pure: pandas, numpy, ensemble-boxes, pillow, pydicom."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import cxr_mmdet.data_prep as data_prep
from cxr_mmdet.demo_data.xrv_tables import find_xrv_table

FORBIDDEN = ('torch', 'torchvision', 'mmdet', 'mmengine', 'mmcv',
             'torchxrayvision')


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_data_prep_imports_no_torch_or_mmdet():
    folder = Path(data_prep.__file__).parent
    files = sorted(folder.glob('*.py'))
    assert len(files) >= 10
    for path in files:
        for name in _imported_modules(path):
            assert name.split('.')[0] not in FORBIDDEN, (path.name, name)
    xrv = Path(find_xrv_table.__code__.co_filename)
    assert not {n.split('.')[0] for n in _imported_modules(xrv)} & set(
        FORBIDDEN)


def test_find_xrv_table(nih_table):
    assert nih_table.is_file() and nih_table.name == 'BBox_List_2017.csv.gz'
    assert nih_table.parent.name == 'data'
    with pytest.raises(FileNotFoundError, match='no_such_table.csv'):
        find_xrv_table('no_such_table.csv')
