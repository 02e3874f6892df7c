# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""COCO AP at IoU 0.5, overall and per class."""
from __future__ import annotations

import numpy as np
from mmdet.registry import METRICS

from .cxr_coco_metric import CXRCocoMetric


@METRICS.register_module()
class CocoAP50Metric(CXRCocoMetric):
    """:class:`CXRCocoMetric` whose ``bbox_mAP`` and per-class
    ``{class}_precision`` are COCO AP@.5 (101-point, all areas, 100
    detections).

    mmdet's ``CocoMetric`` reports per-class AP only as the mean over its
    IoU thresholds. Here COCOeval runs at ten copies of IoU 0.5 (an array,
    as pycocotools' summary looks thresholds up with ``==``), so that mean
    is AP@.5 and CocoMetric's per-class log table, which reads threshold
    indices 0 and 5, still works. Keys default to the ``ap50`` prefix:
    ``ap50/bbox_mAP``, ``ap50/{class}_precision``.

    Args:
        **kwargs: Passed to :class:`CXRCocoMetric`, but ``iou_thrs``,
            ``classwise`` and ``metric_items``, which this metric sets.
    """

    default_prefix = 'ap50'

    def __init__(self, **kwargs) -> None:
        for key in ('iou_thrs', 'classwise', 'metric_items'):
            if key in kwargs:
                raise ValueError(f'CocoAP50Metric sets {key} itself, got '
                                 f'{key}={kwargs[key]!r}')
        kwargs.setdefault('metric', 'bbox')
        super().__init__(
            iou_thrs=np.full(10, 0.5),
            classwise=True,
            metric_items=['mAP'],
            **kwargs)
