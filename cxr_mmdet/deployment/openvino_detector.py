# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The exported SSD on OpenVINO's CPU plugin."""
from __future__ import annotations

import numpy as np

from .backend_detector import BackendDetector
from .extras import require

HINTS = ('LATENCY', 'THROUGHPUT')
PRECISIONS = ('f32', 'bf16')


class OpenVINODetector(BackendDetector):
    """The graph compiled by ``openvino.Core`` for the CPU.

    Args:
        hint: ``PERFORMANCE_HINT``: ``'LATENCY'`` (one stream, all cores)
            or ``'THROUGHPUT'`` (several streams; a batch is split over
            that many asynchronous requests).
        precision: ``INFERENCE_PRECISION_HINT``. ``'f32'`` by default:
            OpenVINO would otherwise run bf16 on CPUs with native bf16,
            and its detections would no longer equal PyTorch's fp32.
        threads: ``INFERENCE_NUM_THREADS`` (default: OpenVINO's choice).
    """
    backend = 'openvino'

    def __init__(self,
                 onnx_path: str,
                 meta=None,
                 hint: str = 'LATENCY',
                 precision: str = 'f32',
                 threads: int | None = None) -> None:
        super().__init__(onnx_path, meta)
        ov = require('openvino')
        if hint not in HINTS or precision not in PRECISIONS:
            raise ValueError(f'hint must be one of {HINTS} and precision one '
                             f'of {PRECISIONS}, got {hint!r}, {precision!r}')
        config = dict(PERFORMANCE_HINT=hint,
                      INFERENCE_PRECISION_HINT=precision)
        if threads:
            config['INFERENCE_NUM_THREADS'] = int(threads)
        core = ov.Core()
        self.compiled = core.compile_model(
            core.read_model(onnx_path), 'CPU', config)
        self.outputs = [self.compiled.output(n) for n in self.meta.outputs]
        self.request = self.compiled.create_infer_request()
        self.streams = 1
        if hint == 'THROUGHPUT':
            self.streams = int(self.compiled.get_property(
                'OPTIMAL_NUMBER_OF_INFER_REQUESTS'))
            self.queue = ov.AsyncInferQueue(self.compiled, self.streams)

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.streams == 1 or len(batch) == 1:
            result = self.request.infer({0: batch})
            return result[self.outputs[0]], result[self.outputs[1]]
        chunks = np.array_split(batch, min(self.streams, len(batch)))
        parts: list = [None] * len(chunks)

        def done(request, index):
            parts[index] = [request.get_tensor(o).data.copy()
                            for o in self.outputs]

        self.queue.set_callback(done)
        for index, chunk in enumerate(chunks):
            self.queue.start_async({0: chunk}, index)
        self.queue.wait_all()
        return (np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]))
