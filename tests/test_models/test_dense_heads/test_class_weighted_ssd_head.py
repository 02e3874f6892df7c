# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import copy
import functools
import warnings

import pytest
import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.dataset import BaseDataset
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.models.dense_heads.class_weighted_ssd_head import (
    ClassWeightedSSDHead, count_instances_per_class, inverse_frequency_weights)
from cxr_mmdet.testing import get_detector_cfg

NUM_CLASSES = len(CXR_CLASSES)

# The detector configs of each setting, with the input size and the
# feature map sizes their necks give for it; the heads are those of mmdet's
# ssd300_coco.py, ssd512_coco.py and
# ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py.
SETTINGS = {
    'ssd300':
    dict(
        config='ssd/ssd300_vgg16_1xb64-300e_cxr6.py',
        input_size=300,
        featmap_sizes=(38, 19, 10, 5, 3, 1)),
    'ssd512':
    dict(
        config='ssd/ssd512_vgg16_1xb64-300e_cxr6.py',
        input_size=512,
        featmap_sizes=(64, 32, 16, 8, 4, 2, 1)),
    'ssdlite':
    dict(
        config='ssd/ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py',
        input_size=320,
        featmap_sizes=(20, 10, 5, 3, 2, 1)),
}


@functools.lru_cache
def _detector_cfg(setting: str) -> ConfigDict:
    return get_detector_cfg(SETTINGS[setting]['config'])


def head_cfg(setting: str) -> ConfigDict:
    """The config's head with its detector's train and test settings and no
    ``class_weight`` (the head's default unless a test sets it)."""
    model = copy.deepcopy(_detector_cfg(setting))
    head = model.bbox_head
    head.pop('class_weight', None)
    head.update(train_cfg=model.train_cfg, test_cfg=model.test_cfg)
    return head


@pytest.fixture(autouse=True)
def _mmdet_scope():
    init_default_scope('mmdet')


def build_head(setting: str,
               head_type: str = 'ClassWeightedSSDHead',
               **kwargs) -> SSDHead:
    cfg = head_cfg(setting)
    cfg.update(type=head_type, **kwargs)
    return MODELS.build(cfg)


def make_feats(setting: str, batch: int, seed: int = 0) -> tuple:
    g = torch.Generator().manual_seed(seed)
    in_channels = head_cfg(setting).in_channels
    sizes = SETTINGS[setting]['featmap_sizes']
    return tuple(
        torch.randn(batch, c, s, s, generator=g)
        for c, s in zip(in_channels, sizes))


def make_samples(setting: str, boxes_labels: list[tuple[list, list]]) -> list:
    size = SETTINGS[setting]['input_size']
    samples = []
    for boxes, labels in boxes_labels:
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                pad_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            labels=torch.tensor(labels, dtype=torch.long))
        samples.append(sample)
    return samples


def paired_heads(setting: str, class_weight=None):
    """A stock SSDHead and a ClassWeightedSSDHead with identical params."""
    torch.manual_seed(0)
    stock = build_head(setting, 'SSDHead')
    head = build_head(setting, class_weight=class_weight)
    missing, unexpected = head.load_state_dict(
        stock.state_dict(), strict=False)
    assert missing == ['class_weight'] and unexpected == []
    return stock, head


BOXES = [[30., 40., 150., 170.], [160., 150., 280., 290.]]


def test_all_ones_equals_stock_loss_exactly():
    stock, head = paired_heads('ssd300')
    feats = make_feats('ssd300', batch=2)
    samples = make_samples('ssd300', [(BOXES, [0, 3]), (BOXES[:1], [5])])
    ref = stock.loss(feats, samples)
    out = head.loss(feats, samples)
    for key in ('loss_cls', 'loss_bbox'):
        assert len(out[key]) == 2
        for got, want in zip(out[key], ref[key]):
            assert torch.equal(got, want), key


def test_loss_single_weights_positives_by_their_class():
    head = build_head('ssd300', class_weight=[1., 1., 4., 1., 1., 1.])
    stock = build_head('ssd300', 'SSDHead')
    g = torch.Generator().manual_seed(1)
    num_anchors = 200
    cls_score = torch.randn(num_anchors, NUM_CLASSES + 1, generator=g)
    labels = torch.full((num_anchors, ), NUM_CLASSES, dtype=torch.long)
    labels[:5] = 2  # weight 4
    labels[5:12] = 0  # weight 1
    label_weights = torch.ones(num_anchors)
    bbox_pred = torch.randn(num_anchors, 4, generator=g)
    bbox_targets = torch.randn(num_anchors, 4, generator=g)
    bbox_weights = torch.zeros(num_anchors, 4)
    bbox_weights[:12] = 1
    anchors = torch.rand(num_anchors, 4, generator=g)
    args = (cls_score, bbox_pred, anchors, labels, label_weights, bbox_targets,
            bbox_weights)
    loss_cls, loss_bbox = head.loss_by_feat_single(*args, avg_factor=12)
    ref_cls, ref_bbox = stock.loss_by_feat_single(*args, avg_factor=12)

    ce = F.cross_entropy(cls_score, labels, reduction='none')
    hard_neg = ce[12:].topk(3 * 12).values.sum()
    expected = (4 * ce[:5].sum() + ce[5:12].sum() + hard_neg) / 12
    torch.testing.assert_close(loss_cls, expected[None])
    # Only the class-2 positives changed: by (4 - 1) times their loss.
    torch.testing.assert_close(loss_cls - ref_cls,
                               (3 * ce[:5].sum() / 12)[None])
    # Box regression is not weighted.
    assert torch.equal(loss_bbox, ref_bbox)


def test_weights_are_per_class_not_one_constant():
    """The replaced system's 'class weights' were one constant factor.

    Per-class weights scale an image's classification loss by an amount
    that depends on the class of its boxes, and leave it alone when its
    classes have weight 1.
    """
    weights = [1., 5., 1., 1., 1., 1.]
    stock, head = paired_heads('ssd300', class_weight=weights)
    feats = make_feats('ssd300', batch=1, seed=3)
    ratios = {}
    for label in (0, 1):
        samples = make_samples('ssd300', [(BOXES, [label, label])])
        ref = stock.loss(feats, samples)['loss_cls'][0]
        out = head.loss(feats, samples)['loss_cls'][0]
        ratios[label] = (out / ref).item()
    assert ratios[0] == pytest.approx(1.0, abs=1e-6)
    assert ratios[1] > 1.5
    assert len(set(head.foreground_class_weight)) > 1


def test_inverse_frequency_weights_differ_per_class():
    weights = inverse_frequency_weights([500, 100, 50, 10, 250, 90])
    assert sum(weights) / len(weights) == pytest.approx(1.0)
    assert len(set(round(w, 9) for w in weights)) == 6
    # rarest class gets the largest weight, commonest the smallest
    assert weights.index(max(weights)) == 3
    assert weights.index(min(weights)) == 0
    assert weights[3] / weights[0] == pytest.approx(50.0)


def test_inverse_frequency_weights_zero_count_and_errors():
    with pytest.warns(UserWarning, match=r'Classes \[1\]'):
        weights = inverse_frequency_weights([10, 0, 5])
    assert weights[1] == pytest.approx(weights[2])
    assert sum(weights) / 3 == pytest.approx(1.0)
    with pytest.warns(UserWarning, match='No class'):
        assert inverse_frequency_weights([0, 0]) == [1.0, 1.0]
    for bad in ([], [1, -1], [float('nan'), 2], [True, 1], ['3', 1]):
        with pytest.raises(ValueError, match='counts'):
            inverse_frequency_weights(bad)


class _InstancesDataset(BaseDataset):
    METAINFO = dict(classes=CXR_CLASSES)

    def __init__(self, images: list[list[tuple[int, int]]]) -> None:
        self._images = images
        super().__init__(serialize_data=False)

    def load_data_list(self) -> list[dict]:
        return [
            dict(
                img_path=f'img{i}.png',
                instances=[
                    dict(bbox=[0, 0, 5, 5], bbox_label=lab, ignore_flag=ign)
                    for lab, ign in image
                ]) for i, image in enumerate(self._images)
        ]


def test_count_instances_per_class_skips_ignored():
    dataset = _InstancesDataset([[(0, 0), (0, 0), (3, 1)], [], [(5, 0),
                                                                (3, 0)]])
    assert count_instances_per_class(dataset,
                                     NUM_CLASSES) == [2, 0, 0, 1, 0, 1]
    bad = _InstancesDataset([[(6, 0)]])
    with pytest.raises(ValueError, match='img0.png.*bbox_label 6'):
        count_instances_per_class(bad, NUM_CLASSES)


@pytest.mark.parametrize('setting', sorted(SETTINGS))
def test_head_has_num_classes_plus_background_outputs(setting):
    head = build_head(setting)
    head.eval()
    assert head.cls_out_channels == NUM_CLASSES + 1
    feats = make_feats(setting, batch=1)
    cls_scores, bbox_preds = head(feats)
    for cls_score, bbox_pred, num_priors in zip(cls_scores, bbox_preds,
                                                head.num_base_priors):
        assert cls_score.shape[1] == num_priors * (NUM_CLASSES + 1)
        assert bbox_pred.shape[1] == num_priors * 4
    # A COCO (80-class) SSD head does not fit this head's classifier.
    coco = build_head(setting, 'SSDHead', num_classes=80).state_dict()
    with pytest.raises(RuntimeError, match='size mismatch'):
        head.load_state_dict(coco, strict=False)


@pytest.mark.parametrize('setting', sorted(SETTINGS))
def test_predict_works_for_every_setting(setting, monkeypatch):
    # Without the package's SSDHead.loss_cls patch (mmdet 3.3.0 defect).
    monkeypatch.delattr(SSDHead, 'loss_cls', raising=False)
    assert 'loss_cls' not in vars(SSDHead)
    head = build_head(setting, class_weight='inverse_frequency')
    assert head.loss_cls is None
    head.eval()
    feats = make_feats(setting, batch=2)
    samples = make_samples(setting, [([], []), ([], [])])
    with torch.no_grad():
        results = head.predict(feats, samples, rescale=False)
    assert len(results) == 2
    for result in results:
        assert result.bboxes.shape[1] == 4
        assert len(result.scores) == len(result.labels) > 0
        assert int(result.labels.max()) < NUM_CLASSES


def test_full_ssdlite_detector_trains_and_predicts():
    setting = SETTINGS['ssdlite']
    cfg = copy.deepcopy(_detector_cfg('ssdlite'))
    cfg.bbox_head.class_weight = [1., 2., 3., 1., 1., 0.5]
    model = MODELS.build(cfg)
    size = setting['input_size']
    samples = make_samples('ssdlite', [(BOXES, [1, 2]), (BOXES[1:], [5])])
    data = dict(
        inputs=[
            torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
            for _ in samples
        ],
        data_samples=samples)
    model.train()
    losses = model(**model.data_preprocessor(data, training=True), mode='loss')
    total = sum(sum(v) for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total) and total > 0
    model.eval()
    with torch.no_grad():
        preds = model(
            **model.data_preprocessor(data, training=False), mode='predict')
    assert len(preds) == 2
    assert preds[0].pred_instances.scores.numel() > 0


def test_class_weight_buffer_round_trips_through_state_dict(tmp_path):
    head = build_head('ssdlite', class_weight='inverse_frequency')
    assert head.class_weight.tolist() == [1.0] * (NUM_CLASSES + 1)
    head.set_class_weight([0.5, 1.0, 1.5, 2.0, 0.25, 0.75])
    state = head.state_dict()
    assert state['class_weight'].shape == (NUM_CLASSES + 1, )
    path = tmp_path / 'head.pth'
    torch.save(state, path)
    fresh = build_head('ssdlite', class_weight='inverse_frequency')
    fresh.load_state_dict(torch.load(path, weights_only=True))
    assert fresh.class_weight.tolist() == [0.5, 1.0, 1.5, 2.0, 0.25, 0.75, 1.0]
    assert fresh.foreground_class_weight == [0.5, 1.0, 1.5, 2.0, 0.25, 0.75]


def test_invalid_class_weight_is_rejected():
    with pytest.raises(ValueError, match='needs 6 values'):
        build_head('ssdlite', class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match='> 0'):
        build_head('ssdlite', class_weight=[1.0, 0.0, 1, 1, 1, 1])
    with pytest.raises(ValueError, match='inverse_frequency'):
        build_head('ssdlite', class_weight='inverse-freq')
    head = build_head('ssdlite')
    with pytest.raises(ValueError, match='finite'):
        head.set_class_weight([1.0, float('nan'), 1, 1, 1, 1])


def test_unfilled_inverse_frequency_warns_once():
    head = build_head('ssdlite', class_weight='inverse_frequency')
    feats = make_feats('ssdlite', batch=2)
    samples = make_samples('ssdlite', [(BOXES, [0, 1]), (BOXES, [2, 2])])
    with pytest.warns(UserWarning, match='ClassWeightHook'):
        head.loss(feats, samples)
    head.set_class_weight([2.0, 1, 1, 1, 1, 1])
    head._warned_unfilled = False
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        head.loss(feats, samples)


def test_cached_anchors_equal_mmdets_and_repeat_losses():
    stock, head = paired_heads('ssd300')
    sizes = [(s, s) for s in SETTINGS['ssd300']['featmap_sizes']]
    metas = [dict(pad_shape=(300, 300)), dict(pad_shape=(300, 240))]
    for _ in range(2):  # the second call is served from the cache
        anchors, flags = head.get_anchors(sizes, metas, device='cpu')
        ref_anchors, ref_flags = stock.get_anchors(sizes, metas, 'cpu')
        for got, want in zip(anchors + flags, ref_anchors + ref_flags):
            assert len(got) == len(want) == len(sizes)
            assert all(torch.equal(a, b) for a, b in zip(got, want))
    feats = make_feats('ssd300', batch=2)
    samples = make_samples('ssd300', [(BOXES, [0, 3]), (BOXES[:1], [5])])
    first = head.loss(feats, samples)
    again = head.loss(feats, samples)
    ref = stock.loss(feats, samples)
    for key in ('loss_cls', 'loss_bbox'):
        for a, b, c in zip(first[key], again[key], ref[key]):
            assert torch.equal(a, c) and torch.equal(b, c), key
