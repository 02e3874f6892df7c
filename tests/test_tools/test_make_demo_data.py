# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/make_demo_data.py through its parse_args() and main()."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'make_demo_data.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('make_demo_data_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults():
    args = load_tool().parse_args(['--out', 'x'])
    assert (args.num_images, args.seed, args.long_side) == (400, 0, 512)
    assert args.negative_fraction == 0.1 and not args.overwrite


def test_small_run_prints_counts(source_tables, tmp_path, capsys):
    tool = load_tool()
    out = tmp_path / 'raw'
    manifest = tool.main(
        tool.parse_args([
            '--out', str(out), '--num-images', '12', '--seed', '4',
            '--long-side', '128', '--num-dicom', '2', '--no-progress'
        ]))
    printed = capsys.readouterr().out
    assert 'wrote 12 images' in printed and 'Nodule/Mass' in printed
    assert json.loads((out / 'demo_manifest.json').read_text()) == manifest
    assert manifest['options']['long_side'] == 128
    vin = pd.read_csv(out / 'vinbig' / 'train.csv')
    assert list(vin.columns) == [
        'image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min',
        'x_max', 'y_max'
    ]
    assert len(list((out / 'vinbig' / 'images').glob('*.dicom'))) == 2
