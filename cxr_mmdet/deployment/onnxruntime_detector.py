# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The exported SSD on ONNX Runtime's CPU execution provider."""
from __future__ import annotations

import numpy as np

from .backend_detector import BackendDetector, cpu_count
from .extras import require

#: ``--ort-opt-level`` names -> ``GraphOptimizationLevel`` members.
OPT_LEVELS = dict(
    disable='ORT_DISABLE_ALL',
    basic='ORT_ENABLE_BASIC',
    extended='ORT_ENABLE_EXTENDED',
    all='ORT_ENABLE_ALL')


class ONNXRuntimeDetector(BackendDetector):
    """An ``onnxruntime.InferenceSession`` over the graph.

    Args:
        threads: intra-op threads (default: the cores this process may
            use).
        opt_level: graph optimisation level, a key of
            :data:`OPT_LEVELS`.
    """
    backend = 'onnxruntime'

    def __init__(self,
                 onnx_path: str,
                 meta=None,
                 threads: int | None = None,
                 opt_level: str = 'all') -> None:
        super().__init__(onnx_path, meta)
        ort = require('onnxruntime')
        if opt_level not in OPT_LEVELS:
            raise ValueError(f'opt_level must be one of {list(OPT_LEVELS)}, '
                             f'got {opt_level!r}')
        options = ort.SessionOptions()
        options.graph_optimization_level = getattr(
            ort.GraphOptimizationLevel, OPT_LEVELS[opt_level])
        options.intra_op_num_threads = threads or cpu_count()
        self.session = ort.InferenceSession(
            onnx_path, options, providers=['CPUExecutionProvider'])

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, deltas = self.session.run(
            list(self.meta.outputs), {'images': batch})
        return scores, deltas
