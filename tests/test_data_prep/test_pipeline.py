# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The prep modules by job: options (one source of defaults), stages,
summary, and the atomic output swap shared with the checkpoint writer."""
from __future__ import annotations

import ast
import os
from dataclasses import fields
from pathlib import Path

import pytest

from cxr_mmdet.data_prep import options, pipeline, stages, summary
from cxr_mmdet.data_prep.options import (PrepareConfig, build_parser,
                                         config_from_args)
from cxr_mmdet.utils import atomic_io

ROOT = Path(__file__).resolve().parents[2]


def test_parser_is_made_from_the_dataclass():
    parser = build_parser()
    args = parser.parse_args(['--out', 'x', '--nih-csv', 'a.csv'])
    config = config_from_args(args)
    default = PrepareConfig(out='x', nih_csv='a.csv')
    assert config == default
    # every field is an option, with the dataclass default
    dests = {a.dest: a for a in parser._actions if a.dest != 'help'}
    assert set(dests) == {f.name for f in fields(PrepareConfig)}
    for f in fields(PrepareConfig):
        if f.name != 'out':
            assert dests[f.name].default == f.default, f.name
    assert '--no-progress' in dests['progress'].option_strings
    assert config_from_args(['--out', 'x', '--vinbig-csv', 'v.csv',
                             '--no-progress', '--val-fraction', '0.15'
                             ]).val_fraction == 0.15


def test_tool_restates_no_default():
    """tools/dataset_converters/prepare_data.py builds its parser from the options module and
    holds no number of its own (the 0.01 tolerance lived there)."""
    tool = ROOT / 'tools' / 'dataset_converters' / 'prepare_data.py'
    tree = ast.parse(tool.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, 'attr', '') == 'add_argument']
    assert calls == []
    numbers = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, float)]
    assert numbers == []


def test_table_stages_take_the_cli_defaults():
    """build_tables' keyword defaults are PrepareConfig's."""
    import inspect
    default = PrepareConfig()
    signature = inspect.signature(stages.build_tables)
    for name, param in signature.parameters.items():
        if hasattr(default, name):
            assert param.default == getattr(default, name), name


def test_modules_by_job():
    # the job module keeps only the job; its parts live in their modules
    assert pipeline.prepare_dataset.__module__ == pipeline.__name__
    assert pipeline.select_rows is stages.select_rows
    assert pipeline.summarise_splits is summary.summarise_splits
    assert pipeline.recover_interrupted_run is \
        atomic_io.recover_interrupted_swap
    assert options.PrepareConfig is PrepareConfig
    # one atomic writer for checkpoints and data: the checkpoint module
    # imports it
    ckpt = ROOT / 'cxr_mmdet' / 'compat' / 'atomic_checkpoint.py'
    text = ckpt.read_text()
    assert 'atomic_write_bytes(' in text and 'os.replace(' not in text
    # atomic_io is standard library only
    tree = ast.parse(Path(atomic_io.__file__).read_text())
    imported = {a.name.split('.')[0] for n in ast.walk(tree)
                if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split('.')[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert imported <= {'__future__', 'contextlib', 'fcntl', 'glob', 'os',
                        'shutil', 'socket', 'tempfile', 'collections',
                        'pathlib'}


def test_atomic_write_bytes_and_swap(tmp_path):
    target = tmp_path / 'a' / 'f.bin'
    (tmp_path / 'a').mkdir()
    stale = tmp_path / 'a' / '.f.bin.zzz.tmp'
    stale.write_bytes(b'left by a kill')
    atomic_io.atomic_write_bytes(b'new', target)
    assert target.read_bytes() == b'new'
    assert sorted(os.listdir(tmp_path / 'a')) == ['f.bin']
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'old.txt').write_text('old')
    tmp = atomic_io.temporary_folder(out)
    tmp.mkdir()
    (tmp / 'new.txt').write_text('new')
    atomic_io.replace_folder(tmp, out)
    assert sorted(os.listdir(out)) == ['new.txt']
    assert sorted(os.listdir(tmp_path)) == ['a', 'out']


def test_folder_lock_names_its_holder(tmp_path):
    out = tmp_path / 'out'
    with atomic_io.folder_lock(out) as path:
        assert path.read_text().startswith(f'pid {os.getpid()}@')
        # a second holder (another open file description) is refused
        with pytest.raises(atomic_io.FolderLockedError,
                           match=rf'lock .*\.out\.lock.*pid {os.getpid()}@'):
            with atomic_io.folder_lock(out):
                pass
    assert not path.exists()
    with atomic_io.folder_lock(out):  # free again
        pass
