# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Evaluate one checkpoint with mmcv's NMS and with the plugin's
(torchvision kernels) and print both metric sets and the detection
differences side by side.

``python tools/analysis_tools/nms_parity.py CONFIG CHECKPOINT
--cfg-options test_dataloader.dataset.data_root=demo_out/prepared/VOCdevkit/``
"""
from __future__ import annotations

import argparse
import os.path as osp
import pickle
import tempfile


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--split', default='test', choices=('val', 'test'))
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def _detections(path: str) -> list[tuple]:
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    return [(s['img_path'], s['pred_instances']['bboxes'].numpy(),
             s['pred_instances']['scores'].numpy(),
             s['pred_instances']['labels'].numpy()) for s in samples]


def compare_detections(a: list[tuple], b: list[tuple]) -> dict:
    """Images whose detection count or labels differ, and the largest box
    and score differences where they agree."""
    import numpy as np
    differ, box_diff, score_diff, boxes = 0, 0.0, 0.0, 0
    for (path_a, box_a, score_a, lab_a), (path_b, box_b, score_b,
                                          lab_b) in zip(a, b):
        if path_a != path_b:
            raise ValueError(f'image order differs: {path_a} vs {path_b}')
        if len(box_a) != len(box_b) or not np.array_equal(lab_a, lab_b):
            differ += 1
            continue
        boxes += len(box_a)
        if len(box_a):
            box_diff = max(box_diff, float(np.abs(box_a - box_b).max()))
            score_diff = max(score_diff,
                             float(np.abs(score_a - score_b).max()))
    return dict(images=len(a), images_differing=differ, boxes=boxes,
                max_box_diff=box_diff, max_score_diff=score_diff)


def main(args: argparse.Namespace) -> dict:
    """Evaluate with both NMS implementations; return both metric sets."""
    from cxr_mmdet.apis import evaluate_checkpoint
    from cxr_mmdet.compat import install_torchvision_nms, restore_mmcv_nms
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='nms_parity_')
    runs = {}
    for name in ('mmcv', 'torchvision'):
        if name == 'mmcv':
            restore_mmcv_nms()
        else:
            install_torchvision_nms()
        out = osp.join(work_dir, f'{name}.pkl')
        result = evaluate_checkpoint(
            args.config, args.checkpoint, split=args.split,
            work_dir=osp.join(work_dir, name), out=out,
            cfg_options=args.cfg_options)
        runs[name] = dict(metrics=result.metrics, dets=_detections(out))
    keys = sorted(k for k, v in runs['mmcv']['metrics'].items()
                  if isinstance(v, (int, float)))
    print(f'{"metric":40s} {"mmcv":>10s} {"torchvision":>12s} {"diff":>10s}')
    worst = 0.0
    for key in keys:
        a = float(runs['mmcv']['metrics'][key])
        b = float(runs['torchvision']['metrics'].get(key, float('nan')))
        worst = max(worst, abs(a - b))
        print(f'{key:40s} {a:10.4f} {b:12.4f} {b - a:10.2e}')
    dets = compare_detections(runs['mmcv']['dets'],
                              runs['torchvision']['dets'])
    print(f'largest metric difference: {worst:.2e}')
    print('detections: ' + ', '.join(f'{k} {v}' for k, v in dets.items()))
    return dict(metrics={k: v['metrics'] for k, v in runs.items()},
                max_metric_diff=worst, detections=dets)


if __name__ == '__main__':
    main(parse_args())
