# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Under bf16 autocast SSDHead's loss and predictions (NMS included) are
computed in fp32, equal to fp32 on the same head outputs."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

import cxr_mmdet  # noqa: F401
from cxr_mmdet.testing import mmdet_config
from mmdet.registry import MODELS

META = dict(img_shape=(300, 300), pad_shape=(300, 300),
            scale_factor=(1.0, 1.0), ori_shape=(300, 300))
TEST_CFG = Config(
    dict(nms_pre=1000, nms=dict(type='nms', iou_threshold=0.45,
                                split_thr=0),
         min_bbox_size=0, score_thr=0.02, max_per_img=200))


@pytest.fixture
def head_and_outputs():
    model = Config.fromfile(mmdet_config('_base_/models/ssd300.py')).model
    cfg = model.bbox_head
    cfg.update(train_cfg=model.train_cfg, test_cfg=model.test_cfg)
    cfg.type = 'ClassWeightedSSDHead'
    cfg.num_classes = 6
    head = MODELS.build(cfg)
    torch.manual_seed(0)
    sizes = (38, 19, 10, 5, 3, 1)
    feats = tuple(
        torch.randn(2, c, s, s) for c, s in zip(head.in_channels, sizes))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        cls_scores, bbox_preds = head(feats)
    assert cls_scores[0].dtype == torch.bfloat16
    return head, cls_scores, bbox_preds


def _gts():
    return [
        InstanceData(
            bboxes=torch.tensor([[30., 40., 120., 160.], [150, 60, 280,
                                                          200]]),
            labels=torch.tensor([1, 4])),
        InstanceData(
            bboxes=torch.tensor([[10., 10., 90., 90.]]),
            labels=torch.tensor([0]))
    ]


def test_loss_in_fp32_under_autocast(head_and_outputs):
    head, cls_scores, bbox_preds = head_and_outputs
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = head.loss_by_feat(cls_scores, bbox_preds, _gts(),
                                   [META, META])
    reference = head.loss_by_feat([s.float() for s in cls_scores],
                                  [p.float() for p in bbox_preds], _gts(),
                                  [META, META])
    for key in ('loss_cls', 'loss_bbox'):
        for got, want in zip(losses[key], reference[key]):
            assert got.dtype == torch.float32
            assert torch.equal(got, want)


def test_predict_in_fp32_under_autocast(head_and_outputs):
    head, cls_scores, bbox_preds = head_and_outputs
    head.eval()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        results = head.predict_by_feat(
            cls_scores, bbox_preds, batch_img_metas=[META, META],
            cfg=TEST_CFG, rescale=False)
    reference = head.predict_by_feat(
        [s.float() for s in cls_scores], [p.float() for p in bbox_preds],
        batch_img_metas=[META, META], cfg=TEST_CFG, rescale=False)
    for got, want in zip(results, reference):
        assert len(got) > 0
        assert got.bboxes.dtype == got.scores.dtype == torch.float32
        assert torch.equal(got.bboxes, want.bboxes)
        assert torch.equal(got.scores, want.scores)
        assert torch.equal(got.labels, want.labels)
