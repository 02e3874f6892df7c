# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Several detectors, and left-right flips, fused into one detector."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .detections import Detections
from .wbf_fusion import WBF_IOU_THR, fuse_detections

#: ``--tta`` choices.
TTA_MODES = ('none', 'flip')


class FusedDetector:
    """``detector(img)`` runs every detector on the image (and on its
    mirror image with ``tta='flip'``, the boxes mirrored back) and fuses
    all the views by :func:`fuse_detections`. A single view (one detector,
    no TTA) is returned as it is.

    Args:
        detectors: callables ``img -> Detections`` (boxes in ``img``'s
            frame) with a ``classes`` attribute, all of the same classes.
        max_dets: at most this many fused detections.
    """

    def __init__(self,
                 detectors: Sequence[Callable[[np.ndarray], Detections]],
                 tta: str = 'none',
                 iou_thr: float = WBF_IOU_THR,
                 skip_thr: float = 0.0,
                 max_dets: int | None = None) -> None:
        if not detectors:
            raise ValueError('FusedDetector needs at least one detector')
        if tta not in TTA_MODES:
            raise ValueError(f'tta must be one of {TTA_MODES}, got {tta!r}')
        self.classes = list(detectors[0].classes)
        for det in detectors[1:]:
            if list(det.classes) != self.classes:
                raise ValueError('the detectors name other classes: '
                                 f'{self.classes!r} vs {list(det.classes)!r}')
        self.detectors = list(detectors)
        self.tta = tta
        self.iou_thr = iou_thr
        self.skip_thr = skip_thr
        self.max_dets = max_dets

    def views(self, img: np.ndarray) -> list[Detections]:
        """Each detector's detections on ``img`` (then on its mirror)."""
        width = img.shape[1]
        mirror = np.ascontiguousarray(img[:, ::-1])
        out = []
        for det in self.detectors:
            out.append(det(img))
            if self.tta == 'flip':
                out.append(det(mirror).flipped(width))
        return out

    def __call__(self, img: np.ndarray) -> Detections:
        views = self.views(img)
        if len(views) == 1:
            return views[0]
        return fuse_detections(views, img.shape[1], img.shape[0],
                               self.iou_thr, self.skip_thr,
                               max_dets=self.max_dets)
