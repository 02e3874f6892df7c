# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""``tools/dataset_converters/prepare_data.py`` killed with SIGKILL while it
converts images leaves the previous output intact, or none; rerunning
finishes the job."""
from __future__ import annotations

import glob
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from cxr_mmdet.data_prep.pipeline import recover_interrupted_run
from cxr_mmdet.testing import write_png
from .conftest import kill_when, read_text, run_tool, start_tool

NUM_IMAGES = 120
PREPARE_DATA = 'dataset_converters/prepare_data'


def _raw(root: Path) -> list[str]:
    """An NIH-style set: one box per image; every image is a hard link to
    one large noise PNG, so conversion takes a while but the set is
    written in no time."""
    rng = np.random.default_rng(0)
    images = root / 'images'
    first = write_png(images / '00000000_000.png',
                      rng.integers(0, 255, (768, 768), dtype=np.uint8))
    lines = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    labels = ('Cardiomegaly', 'Effusion', 'Mass', 'Infiltrate')
    for k in range(NUM_IMAGES):
        name = f'{k:08d}_000.png'
        if k:
            os.link(first, images / name)
        lines.append(f'{name},{labels[k % 4]},{100 + k},200,150,120')
    (root / 'BBox_List_2017.csv').write_text('\n'.join(lines) + '\n')
    return [
        '--nih-csv',
        str(root / 'BBox_List_2017.csv'), '--nih-images',
        str(images), '--size', '32', '--no-progress'
    ]


def _partial_images(out: Path) -> list[str]:
    return glob.glob(
        str(out.parent / f'.{out.name}.tmp-*' / 'VOCdevkit' / 'VOC2007' /
            'JPEGImages' / '*.png'))


def _prepare(args: list[str], out: Path, log: str) -> dict:
    """Run the tool to the end; return the summary it wrote."""
    assert run_tool(PREPARE_DATA, *args, log=log) == 0, read_text(log)[-3000:]
    return json.loads((out / 'summary.json').read_text())


def _kill_during_conversion(args: list[str], out: Path, log: str) -> None:
    proc = start_tool(PREPARE_DATA, *args, log=log)
    # a few images converted, most not yet
    killed = kill_when(
        proc, lambda: len(_partial_images(out)) >= 3, timeout=120, poll=0.002)
    assert killed, read_text(log)[-3000:]
    assert proc.returncode == -9
    assert 3 <= len(_partial_images(out)) < NUM_IMAGES


def _snapshot(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob('*')) if p.is_file()
    }


def test_killed_preparation_leaves_old_output_or_none(tmp_path):
    args = _raw(tmp_path / 'raw')
    out = tmp_path / 'dataset'
    args += ['--out', str(out)]
    log = str(tmp_path / 'prepare.log')

    # 1. no previous output: a kill leaves none
    _kill_during_conversion(args, out, log)
    assert not out.exists()

    # 2. rerunning finishes the job and removes the killed run's folder
    summary = _prepare(args, out, log)
    splits = summary['splits']
    assert sum(split['images'] for split in splits.values()) == NUM_IMAGES
    assert len(list((out / 'VOCdevkit/VOC2007/JPEGImages').glob('*.png'))) \
        == NUM_IMAGES
    (recovered, ) = summary['recovered_from_interrupted_run']
    assert recovered.startswith('removed .dataset.tmp-')
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'dataset', 'prepare.log', 'raw'
    ]
    before = _snapshot(out)

    # 3. previous output present: a killed --overwrite leaves it whole
    _kill_during_conversion(args + ['--overwrite'], out, log)
    assert _snapshot(out) == before

    # 4. rerunning with --overwrite finishes: the same dataset again
    summary = _prepare(args + ['--overwrite'], out, log)
    after = _snapshot(out)
    assert set(after) == set(before)
    assert {
        k: v
        for k, v in after.items() if k != 'summary.json'
    } == {
        k: v
        for k, v in before.items() if k != 'summary.json'
    }
    written = json.loads((out / 'summary.json').read_text())
    assert len(written['recovered_from_interrupted_run']) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'dataset', 'prepare.log', 'raw'
    ]


def test_a_kill_between_the_two_renames_is_undone(tmp_path):
    """If the kill falls after ``out`` was moved aside and before the new
    output took its place, the next run puts the old output back."""
    gone = subprocess.Popen([sys.executable, '-c', 'pass'])
    gone.wait()  # its pid no longer runs
    out = tmp_path / 'dataset'
    old = tmp_path / f'.dataset.old-{gone.pid}'
    new = tmp_path / f'.dataset.tmp-{gone.pid}'
    old.mkdir()
    (old / 'summary.json').write_text('old')
    new.mkdir()
    (new / 'summary.json').write_text('new, complete')
    live = tmp_path / f'.dataset.tmp-{os.getpid()}'  # a running process
    live.mkdir()
    done = recover_interrupted_run(out)
    assert (out / 'summary.json').read_text() == 'old'
    assert not old.exists() and not new.exists()
    assert live.exists()
    assert done == [f'restored {out} from {old.name}', f'removed {new.name}']
