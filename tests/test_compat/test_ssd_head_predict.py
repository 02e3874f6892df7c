# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""mmdet 3.3.0's SSDHead cannot predict; the plugin's fix lets it."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config

import cxr_mmdet  # noqa: F401
from cxr_mmdet.testing import mmdet_config
from cxr_mmdet.compat import install_ssd_head_predict_fix
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS


def _head():
    cfg = Config.fromfile(mmdet_config('_base_/models/ssd300.py')).model.bbox_head
    cfg.num_classes = 6
    return MODELS.build(cfg).eval()


def _predict(head):
    torch.manual_seed(0)
    sizes = (38, 19, 10, 5, 3, 1)
    feats = tuple(
        torch.rand(1, c, s, s) for c, s in zip(head.in_channels, sizes))
    meta = dict(img_shape=(300, 300), scale_factor=(1.0, 1.0),
                ori_shape=(300, 300))
    return head.predict_by_feat(
        *head(feats), batch_img_metas=[meta], cfg=Config(
            dict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45),
                 min_bbox_size=0, score_thr=0.0, max_per_img=20)),
        rescale=False)


def test_stock_head_defect_and_fix():
    assert 'loss_cls' in vars(SSDHead)  # installed on import
    del SSDHead.loss_cls
    try:
        with pytest.raises(AttributeError, match='loss_cls'):
            _predict(_head())
    finally:
        assert install_ssd_head_predict_fix() is True
    results = _predict(_head())
    assert len(results[0].scores) == 20
    assert (results[0].labels < 6).all()
    assert install_ssd_head_predict_fix() is False  # idempotent
