# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Let mmdet 3.3.0's stock ``SSDHead`` predict.

``BaseDenseHead._predict_by_feat_single`` reads
``getattr(self.loss_cls, 'custom_cls_channels', False)``, but ``SSDHead``
computes its classification loss inline and never sets ``loss_cls``, so
every prediction fails with ``'SSDHead' object has no attribute
'loss_cls'`` (open-mmlab/mmdetection issues 11305, 11780). A class attribute
``loss_cls = None`` makes that ``getattr`` return ``False``: the softmax
branch runs, as SSD intends. Instances that set their own ``loss_cls``
are unaffected.
"""
from __future__ import annotations


def install_ssd_head_predict_fix() -> bool:
    """Give ``mmdet``'s ``SSDHead`` a ``loss_cls = None`` class attribute.

    Returns:
        bool: True if the attribute was added, False if it already existed.
    """
    from mmdet.models.dense_heads import SSDHead
    if 'loss_cls' in vars(SSDHead):
        return False
    SSDHead.loss_cls = None
    return True
