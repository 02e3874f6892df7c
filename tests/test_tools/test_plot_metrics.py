# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/plot_metrics.py through its main(), on a written work dir."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from PIL import Image

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'plot_metrics.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('plot_metrics_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def test_main_writes_the_four_plots(tmp_path, capsys):
    tool = load_tool()
    write_work_dir(tmp_path)
    args = tool.parse_args([str(tmp_path), '--ckpt-interval', '2'])
    assert args.ckpt_interval == 2 and args.out_dir is None
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    for name in ('loss_curve', 'metrics', 'roc_curves', 'per_class'):
        path = tmp_path / f'{name}.png'
        assert f'{name}: {path}' in out
        with Image.open(path) as im:
            assert im.format == 'PNG' and im.size[0] > 300


def test_main_on_an_empty_dir_reports_and_fails_softly(tmp_path, capsys):
    tool = load_tool()
    assert tool.main(tool.parse_args([str(tmp_path)])) == 1
    out = capsys.readouterr().out
    assert 'no */vis_data/scalars.json' in out
    assert list(tmp_path.iterdir()) == []
    assert tool.main(tool.parse_args([str(tmp_path / 'absent')])) == 1
    assert 'not a directory' in capsys.readouterr().err
