# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Export a detector to ONNX: ``python tools/deployment/export_onnx.py
CONFIG CHECKPOINT --out model.onnx``.

Writes ``model.onnx`` (input ``images`` (B, 3, H, W) resized and
normalised, dynamic batch; outputs ``scores`` (B, N, C) class
probabilities and ``deltas`` (B, N, 4) raw box deltas over all anchors,
checked by ``onnx.checker``) and ``model.deploy.json`` (anchors, box
coder, NMS settings, classes, input size, normalisation), which
``tools/infer.py --backend onnxruntime|openvino --onnx model.onnx`` reads.
"""
from __future__ import annotations

import argparse


def get_args_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    from cxr_mmdet.deployment.onnx_export import OPSET
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument(
        '--opset', type=int, default=OPSET, help=f'default {OPSET}')
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    return get_args_parser().parse_args(argv)


def main(args: argparse.Namespace) -> tuple[str, str]:
    """Export; return the ``.onnx`` and ``.deploy.json`` paths."""
    from cxr_mmdet.deployment import export_onnx
    if not args.out.endswith('.onnx'):
        raise ValueError(f'--out must end in .onnx, got {args.out!r}')
    paths = export_onnx(args.config, args.checkpoint, args.out, args.opset)
    print(f'wrote {paths[0]} and {paths[1]}')
    return paths


if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error
    with exit_on_user_error('export_onnx'):
        main(parse_args())
