# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The non-PyTorch backends by name."""
from __future__ import annotations

from .backend_detector import BackendDetector
from .onnxruntime_detector import ONNXRuntimeDetector
from .openvino_detector import OpenVINODetector

#: ``--backend`` names of the exported graph's runners.
BACKENDS: dict[str, type[BackendDetector]] = {
    'onnxruntime': ONNXRuntimeDetector,
    'openvino': OpenVINODetector,
}


def load_backend_detector(backend: str, onnx_path: str,
                          **options) -> BackendDetector:
    """A :data:`BACKENDS` runner over ``onnx_path`` (its meta JSON read
    from beside it); ``options`` go to its constructor."""
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {list(BACKENDS)}, got '
                         f'{backend!r}')
    return BACKENDS[backend](onnx_path, **options)
