# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Do ONNX Runtime and OpenVINO (f32, and bf16: the benchmark's fastest
setting) detect what PyTorch detects? On a split of
a prepared dataset, per backend: mAP@.5 and, against PyTorch fp32, the
worst top-10 box IoU and the largest score difference over all images.

``python tools/analysis_tools/backend_parity.py CONFIG CHECKPOINT
--data-root demo_out/prepared/VOCdevkit/ [--split test] [--out-dir D]``

The checkpoint is exported to ONNX in the output folder; every backend
detects on the same prepared images (``tools/infer.py``'s preparation).
mAP@.5 is mmdet's ``eval_map`` (area AP at IoU 0.5, one number for all
backends alike). Writes ``backend_parity.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp

import numpy as np

BACKENDS = ('pytorch', 'onnxruntime', 'openvino', 'openvino_bf16')


def get_args_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', required=True,
                        help='the VOCdevkit folder prep wrote')
    parser.add_argument('--split', default='test', choices=('val', 'test'))
    parser.add_argument('--out-dir', default='work_dirs/backend_parity')
    parser.add_argument('--top-k', type=int, default=10)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return get_args_parser().parse_args(argv)


def load_split(config: str, data_root: str, split: str) -> list[dict]:
    """The split's data infos (``img_path``, ``instances``), as the test
    loader reads them."""
    import copy

    from mmdet.registry import DATASETS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.apis import split_ann_file
    init_default_scope('mmdet')
    cfg = Config.fromfile(config)
    dataset = copy.deepcopy(cfg.test_dataloader.dataset)
    dataset.data_root = osp.join(data_root, '')
    dataset.ann_file = split_ann_file(dataset.ann_file, split)
    dataset.pipeline = []
    built = DATASETS.build(dataset)
    return [built.get_data_info(i) for i in range(len(built))]


def annotations(info: dict) -> dict:
    """mmdet ``eval_map``'s ground truth of one image."""
    kept = [i for i in info['instances'] if not i['ignore_flag']]
    ignored = [i for i in info['instances'] if i['ignore_flag']]

    def boxes(items):
        return np.array([i['bbox'] for i in items], np.float32).reshape(-1, 4)

    def labels(items):
        return np.array([i['bbox_label'] for i in items], np.int64)

    return dict(bboxes=boxes(kept), labels=labels(kept),
                bboxes_ignore=boxes(ignored), labels_ignore=labels(ignored))


def per_class(dets, num_classes: int) -> list[np.ndarray]:
    """``eval_map``'s detections of one image: per class (K, 5)."""
    return [
        np.concatenate([dets.boxes[dets.labels == c],
                        dets.scores[dets.labels == c, None]], 1)
        for c in range(num_classes)
    ]


def parity_table(figures: dict) -> str:
    """The figures as a Markdown table (``terminaltables``)."""
    from terminaltables import GithubFlavoredMarkdownTable
    ref = figures['backends']['pytorch']['mAP50']
    rows = [('backend', 'mAP@.5', 'vs PyTorch', f'worst top-'
             f'{figures["top_k"]} IoU', 'max score diff')]
    for name, row in figures['backends'].items():
        rows.append((name, f'{row["mAP50"]:.4f}', f'{row["mAP50"] - ref:+.4f}',
                     f'{row.get("worst_top_k_iou", 1.0):.4f}',
                     f'{row.get("max_score_diff", 0.0):.1e}'))
    return (f'{figures["split"]} split, {figures["images"]} images, against '
            'PyTorch fp32\n' + GithubFlavoredMarkdownTable(rows).table)


def main(args: argparse.Namespace) -> dict:
    """Detect with every backend, compare, print and write the figures."""
    from mmdet.evaluation.functional import eval_map

    from cxr_mmdet.apis.inference import (PyTorchDetector, load_detector,
                                          prepare_input)
    from cxr_mmdet.deployment import export_detector, load_backend_detector
    from cxr_mmdet.deployment.onnx_export import pipeline_input_size
    from cxr_mmdet.testing import top_k_agreement
    from cxr_mmdet.utils.atomic_io import atomic_write_bytes
    os.makedirs(args.out_dir, exist_ok=True)
    infos = load_split(args.config, args.data_root, args.split)
    inferencer = load_detector(args.config, args.checkpoint)
    onnx_path, _ = export_detector(inferencer.model,
                                   pipeline_input_size(inferencer.cfg),
                                   osp.join(args.out_dir, 'model.onnx'))
    detectors = dict(
        pytorch=PyTorchDetector(inferencer),
        onnxruntime=load_backend_detector('onnxruntime', onnx_path),
        openvino=load_backend_detector('openvino', onnx_path),
        # the fastest setting of benchmark_backends.py
        openvino_bf16=load_backend_detector(
            'openvino', onnx_path, precision='bf16'))
    classes = detectors['pytorch'].classes
    dets = {name: [] for name in BACKENDS}
    for info in infos:
        img = prepare_input(info['img_path'], 0)[0]
        for name in BACKENDS:
            dets[name].append(detectors[name](img))
    anns = [annotations(info) for info in infos]
    figures = dict(config=args.config, checkpoint=args.checkpoint,
                   split=args.split, images=len(infos), top_k=args.top_k,
                   backends={})
    for name in BACKENDS:
        mean_ap, _ = eval_map([per_class(d, len(classes)) for d in dets[name]],
                              anns, iou_thr=0.5, logger='silent', nproc=1)
        row = dict(mAP50=float(mean_ap))
        if name != 'pytorch':
            pairs = [top_k_agreement(ref, got, args.top_k)
                     for ref, got in zip(dets['pytorch'], dets[name])]
            row.update(worst_top_k_iou=min(p[0] for p in pairs),
                       max_score_diff=max(p[1] for p in pairs))
        figures['backends'][name] = row
    print(parity_table(figures))
    out = osp.join(args.out_dir, 'backend_parity.json')
    atomic_write_bytes(json.dumps(figures, indent=1).encode(), out)
    print(f'figures written to {out}')
    return figures

if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error
    with exit_on_user_error('backend_parity'):
        main(parse_args())
