# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""What the non-PyTorch backends share: numpy pre-processing, the graph
run by a subclass, numpy/torchvision post-processing."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .deploy_meta import DeployMeta, deploy_meta_path, read_deploy_meta
from .detections import Detections
from .postprocess import ssd_detections
from .preprocess import to_network_input


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class BackendDetector:
    """An exported SSD run by some backend.

    Subclasses implement :meth:`infer`. ``detector(img)`` detects on one
    (H, W, 3) uint8 BGR image; boxes come back in that image's frame.

    Args:
        onnx_path: the exported graph.
        meta: its :class:`DeployMeta`; default: read from the
            ``.deploy.json`` beside ``onnx_path``.
    """
    backend = ''

    def __init__(self, onnx_path: str, meta: DeployMeta | None = None):
        if not os.path.isfile(onnx_path):
            raise FileNotFoundError(f'no ONNX file at {onnx_path!r}')
        self.onnx_path = onnx_path
        self.meta = meta or read_deploy_meta(deploy_meta_path(onnx_path))
        self.classes = list(self.meta.classes)

    def infer(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the graph: (B, 3, H, W) float32 -> scores (B, N, C), deltas
        (B, N, 4)."""
        raise NotImplementedError

    def predict(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detections of each image, one batch through the graph."""
        batch, scales = to_network_input(images, self.meta)
        scores, deltas = self.infer(batch)
        return [
            ssd_detections(scores[i], deltas[i], self.meta, scales[i])
            for i in range(len(images))
        ]

    def __call__(self, img: np.ndarray) -> Detections:
        return self.predict([img])[0]
