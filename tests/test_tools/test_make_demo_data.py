# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/dataset_converters/make_demo_data.py's command line."""
from __future__ import annotations

import json

import pandas as pd

from .conftest import run_cli

TOOL = 'dataset_converters/make_demo_data.py'


def test_defaults_are_written_to_the_manifest(tmp_path):
    out = tmp_path / 'raw'
    proc = run_cli(TOOL, '--out', str(out), '--num-images', '4',
                   '--long-side', '64', '--num-dicom', '0', '--no-progress')
    assert proc.returncode == 0, proc.stderr
    options = json.loads((out / 'demo_manifest.json').read_text())['options']
    assert (options['seed'], options['negative_fraction']) == (0, 0.1)
    assert options['min_box_size'] == 20.0


def test_small_run_prints_counts(tmp_path):
    out = tmp_path / 'raw'
    proc = run_cli(TOOL, '--out', str(out), '--num-images', '12', '--seed',
                   '4', '--long-side', '128', '--num-dicom', '2',
                   '--no-progress')
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / 'demo_manifest.json').read_text())
    printed = proc.stdout
    assert 'wrote 12 images' in printed and 'Nodule/Mass' in printed
    assert manifest['options']['long_side'] == 128
    vin = pd.read_csv(out / 'vinbig' / 'train.csv')
    assert list(vin.columns) == [
        'image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min',
        'x_max', 'y_max'
    ]
    assert len(list((out / 'vinbig' / 'images').glob('*.dicom'))) == 2
