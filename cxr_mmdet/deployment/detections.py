# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""One image's detections as plain arrays, what every backend returns."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Detections(NamedTuple):
    """Detections of one image, highest score first.

    ``boxes`` (N, 4) float32 ``x1, y1, x2, y2`` pixels, ``scores`` (N,)
    float32, ``labels`` (N,) int64 class indices.
    """
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    @classmethod
    def empty(cls) -> 'Detections':
        return cls(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
            np.zeros(0, np.int64))

    @classmethod
    def of(cls, boxes, scores, labels) -> 'Detections':
        """From anything array-like (tensors too), in the dtypes above."""
        def arr(x):
            return np.asarray(x.detach().cpu() if hasattr(x, 'detach') else x)

        return cls(
            arr(boxes).astype(np.float32).reshape(-1, 4),
            arr(scores).astype(np.float32).reshape(-1),
            arr(labels).astype(np.int64).reshape(-1))

    def flipped(self, width: float) -> 'Detections':
        """The boxes mirrored left-right in an image ``width`` wide.

        >>> d = Detections.of([[10, 0, 30, 5]], [0.5], [1]).flipped(100)
        >>> d.boxes.tolist()
        [[70.0, 0.0, 90.0, 5.0]]
        """
        boxes = self.boxes.copy()
        boxes[:, 0] = width - self.boxes[:, 2]
        boxes[:, 2] = width - self.boxes[:, 0]
        return self._replace(boxes=boxes)

    def top(self, k: int | None) -> 'Detections':
        """The ``k`` highest-scoring detections (all with None)."""
        order = np.argsort(-self.scores, kind='stable')[:k]
        return Detections(self.boxes[order], self.scores[order],
                          self.labels[order])
