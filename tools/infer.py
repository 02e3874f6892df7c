# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Detect abnormalities in radiographs.

``python tools/infer.py CONFIG CHECKPOINT INPUT... --out-dir D``: INPUT is a
PNG, JPEG or DICOM file or a folder of them. Each image is decoded and
resized as data preparation does, then run through the config's test
pipeline. Writes ``predictions.json`` (boxes in each input image's pixel
frame, class names, scores; unreadable inputs under ``failed`` with their
reason) and one ``<name>_pred.png`` overlay per image. Exits 1 when no
input could be read, or with ``--strict`` when any could not.

``--backend onnxruntime|openvino --onnx model.onnx`` runs the graph
``tools/deployment/export_onnx.py`` wrote (CHECKPOINT is the one it was
exported from; it is only recorded). ``--ensemble CKPT ...`` and ``--tta
flip`` fuse the checkpoints' (or several ``--onnx`` graphs') detections
and those of the mirrored image by Weighted Box Fusion.
"""
from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    from cxr_mmdet.deployment import WBF_IOU_THR
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument(
        '--operating-point',
        help='per-class thresholds instead of --score-thr: sens90 or fp1 '
        '(the operating_points.json beside the checkpoint, chosen on val), '
        'or FILE[:NAME] (a point of another operating_points.json)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='infer under autocast (CUDA fp16, CPU bf16)')
    parser.add_argument(
        '--prep-size',
        type=int,
        help='side the inputs are resized to first, as prep resized the '
        'training data (0: none); default: the size in the summary.json '
        "of the config's data_root, else prep's default")
    parser.add_argument(
        '--strict',
        action='store_true',
        help='exit 1 if any input cannot be read (the others are still '
        'processed and written)')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime', 'openvino'),
        default='pytorch')
    parser.add_argument(
        '--onnx',
        nargs='+',
        default=[],
        metavar='FILE',
        help='exported graph(s) for --backend onnxruntime|openvino (the '
        '.deploy.json beside each is read)')
    parser.add_argument(
        '--ensemble',
        nargs='+',
        default=[],
        metavar='CKPT',
        help='more checkpoints of the config, fused with CHECKPOINT by WBF')
    parser.add_argument(
        '--tta',
        choices=('none', 'flip'),
        default='none',
        help="'flip': also detect on the mirrored image, fused by WBF")
    parser.add_argument('--wbf-iou-thr', type=float, default=WBF_IOU_THR)
    parser.add_argument('--wbf-skip-thr', type=float, default=0.0)
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> dict:
    """Run inference; return what predictions.json holds (and its path
    as ``out_file``)."""
    from cxr_mmdet.apis import run_inference
    record = run_inference(
        args.config,
        args.checkpoint,
        args.inputs,
        args.out_dir,
        args.score_thr,
        args.device,
        size=args.prep_size,
        progress=not args.no_progress,
        amp=args.amp,
        operating_point=args.operating_point,
        backend=args.backend,
        onnx=args.onnx,
        ensemble=args.ensemble,
        tta=args.tta,
        wbf_iou_thr=args.wbf_iou_thr,
        wbf_skip_thr=args.wbf_skip_thr)
    print(f'predictions: {record["out_file"]} ({len(record["images"])} '
          f'images, {len(record["failed"])} unreadable)')
    return record


if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error, inference_exit_code
    with exit_on_user_error('infer'):
        parsed = parse_args()
        sys.exit(inference_exit_code(main(parsed), parsed.strict))
