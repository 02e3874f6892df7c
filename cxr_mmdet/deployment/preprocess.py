# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The network input from a prepared image, without mmdet: the config's
test pipeline (``Resize`` with ``keep_ratio=False``, cv2 bilinear) and
data preprocessor (channel swap, ``(x - mean) / std``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .deploy_meta import DeployMeta


def resize_to_input(img: np.ndarray,
                    meta: DeployMeta) -> tuple[np.ndarray, np.ndarray]:
    """Resize an (H, W, 3) uint8 image to ``meta.input_size`` as mmdet's
    ``Resize(keep_ratio=False)`` does (``mmcv.imresize``: cv2 bilinear).

    Returns:
        tuple: the resized image and the ``(w_scale, h_scale)`` factor
        from the given image to it.
    """
    height, width = meta.input_size
    scale = np.array([width / img.shape[1], height / img.shape[0]],
                     np.float32)
    if img.shape[:2] != (height, width):
        import cv2
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
    return img, scale


def to_network_input(images: Sequence[np.ndarray],
                     meta: DeployMeta) -> tuple[np.ndarray, np.ndarray]:
    """Batch (H, W, 3) uint8 BGR images for the graph.

    Returns:
        tuple: ``(B, 3, h, w)`` float32 normalised input and the
        ``(B, 2)`` ``(w_scale, h_scale)`` factors of the resize.
    """
    height, width = meta.input_size
    batch = np.empty((len(images), 3, height, width), np.float32)
    scales = np.empty((len(images), 2), np.float32)
    mean = np.asarray(meta.mean, np.float32).reshape(3, 1, 1)
    std = np.asarray(meta.std, np.float32).reshape(3, 1, 1)
    for i, img in enumerate(images):
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'expected an (H, W, 3) image, got shape '
                             f'{img.shape!r}')
        resized, scales[i] = resize_to_input(img, meta)
        chw = resized.transpose(2, 0, 1)
        if meta.to_rgb:
            chw = chw[::-1]
        batch[i] = (chw.astype(np.float32) - mean) / std
    return batch, scales
