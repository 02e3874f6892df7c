# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Bad inputs of data preparation, round 2: each case an error that names
the option, folder, lock or image, raised before the expensive work; and
nothing of the user's is deleted.

``CASES`` is one table: a name, how to set the case up, the options, and
the error expected (type and a pattern of its message). Each case also
checks what must still be there afterwards.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from cxr_mmdet.data_prep import config_from_args
from cxr_mmdet.data_prep import pipeline as pipeline_module
from cxr_mmdet.data_prep import prepare_dataset
from cxr_mmdet.data_prep.stages import ResizedExportError
from cxr_mmdet.utils.atomic_io import FolderLockedError
from cxr_mmdet.testing import write_png, write_vinbig_csv

NIH_LABELS = ('Cardiomegaly', 'Effusion', 'Mass', 'Infiltrate')
VIN_LABELS = ('Pleural thickening', 'Pulmonary fibrosis', 'Nodule/Mass',
              'Cardiomegaly')
SIZE = (64, 48)  # width, height of every image


def write_raw(root: Path) -> dict:
    """12 NIH images (one patient each) and 12 VinBig positives plus 4
    negatives, one box per positive image."""
    rng = np.random.default_rng(0)
    lines = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    for k in range(12):
        name = f'{k + 1:08d}_000.png'
        lines.append(f'{name},{NIH_LABELS[k % 4]},{4 + k},5,20,16')
        write_png(root / 'nih' / name,
                  rng.integers(0, 255, SIZE[::-1], dtype=np.uint8))
    (root / 'BBox_List_2017.csv').write_text('\n'.join(lines) + '\n')
    rows = []
    for k in range(16):
        image = f'v{k:02d}'
        if k < 12:
            rows.append((image, VIN_LABELS[k % 4], 'R1', 5 + k, 6, 30 + k,
                         40))
        else:
            rows.append((image, 'No finding', 'R1', '', '', '', ''))
        write_png(root / 'vinbig' / f'{image}.png',
                  rng.integers(0, 255, SIZE[::-1], dtype=np.uint8))
    write_vinbig_csv(root / 'train.csv', rows)
    return dict(
        nih_csv=str(root / 'BBox_List_2017.csv'),
        nih_images=str(root / 'nih'),
        vinbig_csv=str(root / 'train.csv'),
        vinbig_images=str(root / 'vinbig'))


def argv(raw: dict, out: Path, *extra: str) -> list[str]:
    return [
        '--nih-csv', raw['nih_csv'], '--nih-images', raw['nih_images'],
        '--vinbig-csv', raw['vinbig_csv'], '--vinbig-images',
        raw['vinbig_images'], '--out',
        str(out), '--size', '32', '--test-fraction', '0.25',
        '--val-fraction', '0.25', '--no-progress', *extra
    ]


@pytest.fixture
def raw(tmp_path) -> dict:
    return write_raw(tmp_path / 'raw')


@pytest.fixture
def no_image_reads(monkeypatch):
    """Fail the test if prep opens any image (or, with ``tables=True``,
    reads any table)."""
    calls = []

    def forbid(what):

        def reader(*args, **kwargs):
            calls.append(what)
            raise AssertionError(f'{what} called before the error')

        return reader

    def arm(tables: bool = False):
        monkeypatch.setattr(pipeline_module, 'read_image_size',
                            forbid('read_image_size'))
        monkeypatch.setattr(pipeline_module, 'convert_images',
                            forbid('convert_images'))
        if tables:
            monkeypatch.setattr(pipeline_module, 'read_nih_boxes',
                                forbid('read_nih_boxes'))
            monkeypatch.setattr(pipeline_module, 'read_vinbig_rows',
                                forbid('read_vinbig_rows'))

    arm.calls = calls
    return arm


@dataclass
class Case:
    name: str
    options: tuple[str, ...] = ()
    error: type = ValueError
    match: str = ''
    #: set-up: (tmp_path, out) -> returns a check run after the error
    setup: Callable | None = None
    #: 'images': no image is read before the error; 'tables': no table
    before: str = 'images'
    notes: dict = field(default_factory=dict)


def _thesis(tmp_path: Path, out: Path) -> Callable:
    (out / 'thesis').mkdir(parents=True)
    (out / 'thesis' / 'ch1.tex').write_text('x')
    return lambda: (out / 'thesis' / 'ch1.tex').read_text() == 'x'


def _foreign_in_output(tmp_path: Path, out: Path) -> Callable:
    """A prepared output (its summary and layout) plus a file of the
    user's at its top."""
    (out / 'VOCdevkit' / 'VOC2007' / 'Annotations').mkdir(parents=True)
    (out / 'summary.json').write_text(
        json.dumps({'generator': 'cxr_mmdet.data_prep'}))
    (out / 'notes.txt').write_text('mine')
    return lambda: (out / 'notes.txt').read_text() == 'mine'


def _fake_summary(tmp_path: Path, out: Path) -> Callable:
    """A summary.json of some other tool."""
    out.mkdir(parents=True)
    (out / 'summary.json').write_text(json.dumps({'generator': 'other'}))
    return lambda: (out / 'summary.json').exists()


def _file_as_parent(tmp_path: Path, out: Path) -> Callable:
    # ``out``'s parent is a file: nothing can be written there
    out.parent.write_text('a file')
    return lambda: out.parent.read_text() == 'a file'


def _read_only_parent(tmp_path: Path, out: Path) -> Callable:
    if os.geteuid() == 0:
        pytest.skip('root writes into read-only folders')
    out.parent.mkdir()
    out.parent.chmod(0o555)
    return lambda: out.parent.chmod(0o755) or True


def _lock_held(tmp_path: Path, out: Path) -> Callable:
    """Another process holds the output's lock (the real atomic_io module,
    loaded from its file in a child Python)."""
    module = Path(__file__).resolve().parents[2] / 'cxr_mmdet' / 'utils' / \
        'atomic_io.py'
    ready = tmp_path / 'locked'
    out.parent.mkdir(parents=True)
    code = (
        'import importlib.util, sys, time, pathlib\n'
        f'spec = importlib.util.spec_from_file_location("a", {str(module)!r})'
        '\nm = importlib.util.module_from_spec(spec)\n'
        'spec.loader.exec_module(m)\n'
        f'with m.folder_lock({str(out)!r}):\n'
        f'    pathlib.Path({str(ready)!r}).write_text("x")\n'
        '    time.sleep(60)\n')
    child = subprocess.Popen([sys.executable, '-c', code])
    deadline = time.time() + 30
    while not ready.exists():
        assert child.poll() is None and time.time() < deadline
        time.sleep(0.02)
    _lock_held.pid = child.pid

    def check():
        child.kill()
        child.wait()
        return not out.exists()

    return check


CASES = [
    Case('overwrite a folder that is not a dataset', ('--overwrite', ),
         ValueError, r"--overwrite refused: '.*/out' is not a dataset",
         _thesis, 'tables'),
    Case('overwrite an output holding a foreign file', ('--overwrite', ),
         ValueError, r"--overwrite refused: '.*/out'", _foreign_in_output,
         'tables'),
    Case('overwrite a folder with another tool\'s summary.json',
         ('--overwrite', ), ValueError, r'--overwrite refused',
         _fake_summary, 'tables'),
    Case('--box-tolerance nan', ('--box-tolerance', 'nan'), ValueError,
         r'--box-tolerance must be a finite number, got nan', None,
         'tables'),
    Case('--box-tolerance inf', ('--box-tolerance', 'inf'), ValueError,
         r'--box-tolerance must be a finite number, got inf', None,
         'tables'),
    Case('--test-fraction nan', ('--test-fraction', 'nan'), ValueError,
         r'--test-fraction must be a finite number', None, 'tables'),
    Case('--val-fraction -inf', ('--val-fraction=-inf', ), ValueError,
         r'--val-fraction must be a finite number', None, 'tables'),
    Case('--wbf-iou 1.5', ('--wbf-iou', '1.5'), ValueError,
         r'--wbf-iou must be in \[0.0, 1.0\], got 1.5', None, 'tables'),
    Case('--train-negative-fraction 1', ('--train-negative-fraction', '1'),
         ValueError, r'--train-negative-fraction must be in \[0.0, 1.0\)',
         None, 'tables'),
    Case('--max-outside-share nan', ('--max-outside-share', 'nan'),
         ValueError, r'--max-outside-share must be a finite number', None,
         'tables'),
    Case('--val-fraction 0', ('--val-fraction', '0'), ValueError,
         r'--val-fraction must be in \(0.0, 1.0\), got 0.0', None, 'tables'),
    Case('fractions leave no train', ('--test-fraction', '0.75'), ValueError,
         r'--test-fraction 0.75 \+ --val-fraction 0.25 must be < 1', None,
         'tables'),
    Case('--size -1', ('--size', '-1'), ValueError,
         r'--size must be >= 0, got -1', None, 'tables'),
    Case('--workers 0', ('--workers', '0'), ValueError,
         r'--workers must be >= 1, got 0', None, 'tables'),
    Case('--seed -1', ('--seed', '-1'), ValueError,
         r'--seed must be >= 0, got -1', None, 'tables'),
    Case('--negatives-per-split -2', ('--negatives-per-split', '-2'),
         ValueError, r'--negatives-per-split must be >= 0', None, 'tables'),
    Case('val split left empty', ('--val-fraction', '0.01'), ValueError,
         r"from the tables alone, the splits 'val' \(0 images.*"
         r'--val-fraction 0.01'),
    Case('output parent is a file', (), ValueError,
         r"cannot create the folder of --out '.*/parent'", _file_as_parent,
         'tables'),
    Case('output parent is read-only', (), ValueError,
         r"the folder of --out '.*/parent' is not writable",
         _read_only_parent, 'tables'),
    Case('a second run on the same --out', (), FolderLockedError,
         r"being written by another run \(lock '.*/\.out\.lock' held by "
         r'pid (?P<pid>\d+)@', _lock_held, 'tables'),
]


@pytest.mark.parametrize('case', CASES, ids=[c.name for c in CASES])
def test_bad_prep_input(case: Case, raw, tmp_path, no_image_reads):
    parent = tmp_path / ('parent' if 'parent' in case.name else 'p')
    out = parent / 'out'
    check = case.setup(tmp_path, out) if case.setup else (lambda: True)
    no_image_reads(tables=case.before == 'tables')
    with pytest.raises(case.error, match=case.match) as info:
        prepare_dataset(config_from_args(argv(raw, out, *case.options)))
    assert no_image_reads.calls == []
    if case.setup is _lock_held:
        assert f'pid {_lock_held.pid}@' in str(info.value)
    assert check(), 'the user\'s files must be left as they were'


def test_overwrite_allowed_for_empty_and_own_output(raw, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    first = prepare_dataset(config_from_args(argv(raw, out, '--overwrite')))
    assert all(first['splits'][s]['positive_images'] for s in first['splits'])
    again = prepare_dataset(
        config_from_args(argv(raw, out, '--overwrite', '--seed', '1')))
    assert again['arguments']['seed'] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out', 'raw']


def _halve_images(raw: dict) -> None:
    """Rewrite the VinBig PNGs at half size (a resized export)."""
    for path in Path(raw['vinbig_images']).glob('*.png'):
        write_png(path, np.zeros((SIZE[1] // 2, SIZE[0] // 2), np.uint8))


def test_resized_export_stops_with_the_fix(raw, tmp_path):
    _halve_images(raw)
    with pytest.raises(
            ResizedExportError,
            match=r"vinbig image 'v\d\d' is 32 x 24 px, but 1 of its boxes "
            r'lie outside it.*--vinbig-meta'):
        prepare_dataset(config_from_args(argv(raw, tmp_path / 'out')))
    assert not (tmp_path / 'out').exists()


def test_vinbig_meta_rescales_boxes(raw, tmp_path):
    """With the original sizes the boxes land where they would on the
    full-size images: the XMLs equal the full-size run's."""
    full = prepare_dataset(config_from_args(argv(raw, tmp_path / 'full')))
    _halve_images(raw)
    meta = tmp_path / 'meta.csv'
    ids = [f'v{k:02d}' for k in range(16)]
    pd.DataFrame({
        'image_id': ids,
        'dim0': SIZE[1],
        'dim1': SIZE[0]
    }).to_csv(
        meta, index=False)
    half = prepare_dataset(
        config_from_args(
            argv(raw, tmp_path / 'half', '--vinbig-meta', str(meta))))
    assert half['rescaled_from_meta'] == 12
    assert half['dropped_rows'] == full['dropped_rows']
    folders = [
        tmp_path / run / 'VOCdevkit' / 'VOC2007' / 'Annotations'
        for run in ('full', 'half')
    ]
    names = sorted(p.name for p in folders[0].glob('v*.xml'))
    assert len(names) >= 12
    assert names == sorted(p.name for p in folders[1].glob('v*.xml'))
    for name in names:
        assert (folders[0] / name).read_text() == (folders[1] /
                                                   name).read_text(), name
    # a meta table that lacks an image, or holds a bad size, is an error
    pd.DataFrame({'image_id': ids[1:], 'dim0': 48, 'dim1': 64}).to_csv(
        meta, index=False)
    with pytest.raises(ValueError, match=r"--vinbig-meta has no row for "
                       r"the images \['v00'\]"):
        prepare_dataset(
            config_from_args(
                argv(raw, tmp_path / 'x', '--vinbig-meta', str(meta))))
    meta.write_text('image_id,dim0,dim1\nv00,0,64\n')
    with pytest.raises(ValueError, match=r'meta.csv: row 2 .*v00.*dim0'):
        prepare_dataset(
            config_from_args(
                argv(raw, tmp_path / 'x', '--vinbig-meta', str(meta))))
