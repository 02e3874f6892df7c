# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/analysis_tools/plot_metrics.py's command line on a written work
dir."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from .conftest import run_cli

TOOL = 'analysis_tools/plot_metrics.py'


def write_work_dir(work_dir: Path) -> None:
    lines = []
    for epoch in (1, 2, 3):
        for it in (1, 2):
            step = 2 * (epoch - 1) + it
            lines.append(
                dict(
                    lr=1e-4,
                    loss=3.0 / epoch,
                    loss_cls=2.0 / epoch,
                    loss_bbox=1.0 / epoch,
                    epoch=epoch,
                    iter=step,
                    step=step,
                    time=0.1,
                    data_time=0.01))
        lines.append({
            'coco/bbox_mAP': 0.1 * epoch,
            'coco/bbox_mAP_50': 0.2 * epoch,
            'cxr/mAUC': 0.5 + 0.1 * epoch,
            'step': epoch
        })
    scalars = work_dir / '20260101_120000' / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text('\n'.join(json.dumps(x) for x in lines) + '\n')
    (work_dir / 'roc').mkdir()
    (work_dir / 'roc' / 'val_3.json').write_text(
        json.dumps(
            dict(
                stage='val',
                epoch=3,
                classes={
                    'Cardiomegaly':
                    dict(
                        fpr=[0, 0.2, 1],
                        tpr=[0, 0.9, 1],
                        thresholds=[None, 0.5, 0.1],
                        auc=0.89)
                })))
    (work_dir / 'per_class.json').write_text(
        json.dumps({
            'Cardiomegaly': {
                'AP': 0.4
            },
            'Nodule/Mass': {
                'AP': 0.2
            }
        }))


def test_cli_writes_the_four_plots(tmp_path):
    write_work_dir(tmp_path)
    proc = run_cli(TOOL, str(tmp_path), '--ckpt-interval', '2')
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ('loss_curve', 'metrics', 'roc_curves', 'per_class'):
        path = tmp_path / f'{name}.png'
        assert f'{name}: {path}' in out
        with Image.open(path) as im:
            assert im.format == 'PNG' and im.size[0] > 300


def test_cli_on_an_empty_dir_reports_and_fails_softly(tmp_path):
    proc = run_cli(TOOL, str(tmp_path))
    assert proc.returncode == 1
    assert 'no */vis_data/scalars.json' in proc.stdout
    assert list(tmp_path.iterdir()) == []
    proc = run_cli(TOOL, str(tmp_path / 'absent'))
    assert proc.returncode == 1
    assert 'not a directory' in proc.stderr
