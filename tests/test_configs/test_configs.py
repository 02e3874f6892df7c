# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Every config loads, builds on CPU, trains one step and predicts."""
from __future__ import annotations

import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import cxr_mmdet  # noqa: F401
from cxr_mmdet.testing import mmdet_config
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

init_default_scope('mmdet')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'ssd', '*.py')))
MAIN = osp.join(ROOT, 'configs', 'ssd', 'ssd300_vgg16_1xb64-300e_cxr6.py')


def _inputs(size: int, n: int = 2):
    torch.manual_seed(0)
    samples = []
    for i in range(n):
        s = DetDataSample(
            metainfo=dict(
                img_shape=(size, size), ori_shape=(size, size),
                scale_factor=(1.0, 1.0), pad_shape=(size, size),
                batch_input_shape=(size, size)))
        s.gt_instances = InstanceData(
            bboxes=torch.tensor([[20.0, 30.0, 120.0, 150.0]]) * size / 300,
            labels=torch.tensor([i % 6]))
        samples.append(s)
    inputs = [torch.randint(0, 255, (3, size, size), dtype=torch.uint8)
              for _ in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def _input_size(cfg) -> int:
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            return step['scale'][0]
    raise AssertionError('no Resize in test pipeline')


def test_all_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    assert {
        'ssd300_vgg16_1xb64-300e_cxr6.py',
        'ssd512_vgg16_1xb64-300e_cxr6.py',
        'ssdlite_mobilenetv2-scratch_1xb64-300e_cxr6.py',
        'ssd300_vgg16_1xb64-300e_cxr6-stock-head.py',
        'ssd300_vgg16_1xb64-300e_cxr6-sampler-only.py',
        'ssd300_vgg16_1xb64-300e_cxr6-weights-only.py',
    } <= names


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_builds_trains_and_predicts(config):
    cfg = Config.fromfile(config)
    assert cfg.custom_imports['imports'] == ['cxr_mmdet']
    assert cfg.model.bbox_head.num_classes == 6
    model = MODELS.build(cfg.model)
    model.init_weights()  # as the Runner does; must not download anything
    head = model.bbox_head
    # 6 classes + background per anchor: the COCO head (81) must not stay
    assert head.cls_out_channels == 7
    for conv in head.cls_convs:
        last = conv[-1]
        assert last.out_channels % 7 == 0 and last.out_channels % 81 != 0
    size = _input_size(cfg)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=1e-3)
    data = model.data_preprocessor(_inputs(size), training=True)
    losses = model(**data, mode='loss')
    total = sum(sum(v) if isinstance(v, list) else v
                for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    optim.step()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_inputs(size, 1), training=False)
        preds = model(**data, mode='predict')
    assert len(preds) == 1
    pred = preds[0].pred_instances
    assert pred.bboxes.shape[1] == 4
    assert (pred.labels < 6).all()


def test_main_config_schedule_as_specified():
    cfg = Config.fromfile(MAIN)
    assert cfg.model.bbox_head.type == 'ClassWeightedSSDHead'
    assert cfg.model.bbox_head.class_weight == 'inverse_frequency'
    assert cfg.train_dataloader.sampler.type == 'CXRBalancedSampler'
    assert cfg.train_dataloader.sampler.neg_fraction == 0.1
    # negatives stay in training; the sampler decides their share
    assert cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt is False
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4)
    assert cfg.train_cfg.max_epochs == 300
    warmup, plateau = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.start_factor == 0.001
    assert warmup.by_epoch and warmup.convert_to_iter_based
    assert (warmup.begin, warmup.end) == (0, cfg.warmup_epochs)
    assert plateau.type == 'ReduceOnPlateauLR'
    assert (plateau.monitor, plateau.rule, plateau.factor,
            plateau.patience) == ('coco/bbox_mAP', 'greater', 0.5, 3)
    assert plateau.threshold_rule == 'abs' and plateau.threshold == 0.0005
    assert plateau.min_value == 1e-5 and plateau.begin == cfg.warmup_epochs
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.interval == 20 and ckpt.save_best == 'coco/bbox_mAP'
    hooks = {h['type'] for h in cfg.custom_hooks}
    assert {'ClassWeightHook', 'CheckpointMetricsHook',
            'ROCCurveHook'} <= hooks
    assert cfg.load_from == (
        'https://download.openmmlab.com/mmdetection/v2.0/ssd/ssd300_coco/'
        'ssd300_coco_20210803_015428-d231a06e.pth')
    assert cfg.model.backbone.init_cfg is None
    metrics = {e['type'] for e in cfg.val_evaluator}
    assert metrics == {'CXRCocoMetric', 'CXRVOCMetric', 'CXRROCMetric'}
    voc = next(e for e in cfg.val_evaluator if e['type'] == 'CXRVOCMetric')
    assert voc['iou_thrs'] == [0.4] and voc['eval_mode'] == 'area'


def _published_weights() -> dict[str, str]:
    """mmdet's published SSD checkpoints: file name -> URL (metafile)."""
    import yaml
    with open(mmdet_config('ssd/metafile.yml')) as f:
        meta = yaml.safe_load(f)
    urls = [m['Weights'] for m in meta['Models'] if 'Weights' in m]
    return {osp.basename(u): u for u in urls}


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_load_from_is_a_published_checkpoint_or_none(config):
    """Pretrained VGG configs load mmdet's COCO checkpoint of their own
    input size; the from-scratch SSDLite configs (and the demo) load
    nothing, so they never download."""
    cfg = Config.fromfile(config)
    name = osp.basename(config)
    if 'scratch' in name:
        assert cfg.load_from is None
        return
    published = _published_weights()
    size = _input_size(cfg)
    assert cfg.load_from == published[
        {300: 'ssd300_coco_20210803_015428-d231a06e.pth',
         512: 'ssd512_coco_20210803_022849-0a47a1ca.pth'}[size]]


def _remedy(cfg) -> tuple:
    hooks = {h['type'] for h in cfg.custom_hooks}
    return (cfg.model.bbox_head.type,
            cfg.model.bbox_head.get('class_weight'),
            'ClassWeightHook' in hooks, cfg.train_dataloader.sampler.type,
            cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt)


@pytest.mark.parametrize('variant, remedy', [
    ('stock-head', ('SSDHead', None, False, 'DefaultSampler', True)),
    ('sampler-only',
     ('ClassWeightedSSDHead', None, True, 'CXRBalancedSampler', False)),
    ('weights-only', ('ClassWeightedSSDHead', 'inverse_frequency', True,
                      'DefaultSampler', True)),
])
def test_imbalance_ablation_configs_differ_from_main_only_there(
        variant, remedy):
    """The four imbalance variants: none, sampler only, weights only and
    both (main); each differs from the main config only in its head's
    weighting and its sampler (with the negatives it draws)."""
    main = Config.fromfile(MAIN)
    cfg = Config.fromfile(MAIN.replace('.py', f'-{variant}.py'))
    assert _remedy(main) == ('ClassWeightedSSDHead', 'inverse_frequency',
                             True, 'CXRBalancedSampler', False)
    assert _remedy(cfg) == remedy
    ours, theirs = cfg.to_dict(), main.to_dict()
    for key in ('model', 'train_dataloader', 'custom_hooks', 'filename'):
        ours.pop(key, None), theirs.pop(key, None)
    assert ours == theirs


def test_main_config_keeps_the_stock_ssd300_model():
    """Only the documented head/backbone-init/NMS-split overrides differ."""
    stock = Config.fromfile(mmdet_config('ssd/ssd300_coco.py')).model.to_dict()
    ours = Config.fromfile(MAIN).model.to_dict()
    # per-class NMS: the same boxes, faster (see the test below)
    assert ours['test_cfg']['nms'].pop('split_thr') == 0
    for key in ('data_preprocessor', 'neck', 'train_cfg', 'test_cfg'):
        assert ours[key] == stock[key], key
    stock['backbone'].pop('init_cfg')
    ours['backbone'].pop('init_cfg')
    assert ours['backbone'] == stock['backbone']
    for key in ('type', 'num_classes', 'class_weight'):
        stock['bbox_head'].pop(key, None)
        ours['bbox_head'].pop(key, None)
    assert ours['bbox_head'] == stock['bbox_head']


def test_per_class_nms_of_the_configs_keeps_the_same_boxes():
    """``split_thr=0`` runs mmcv's NMS per class instead of once over all
    classes with coordinate offsets; the kept boxes must be the same."""
    from mmcv.ops import batched_nms
    nms_cfg = Config.fromfile(MAIN).model.test_cfg.nms.to_dict()
    assert nms_cfg['split_thr'] == 0
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(4000, 2, generator=g) * 260
    boxes = torch.cat([xy, xy + 8 + torch.rand(4000, 2, generator=g) * 60],
                      1)
    scores = torch.rand(4000, generator=g)
    labels = torch.randint(0, 6, (4000, ), generator=g)
    split, keep_split = batched_nms(boxes, scores, labels, dict(nms_cfg))
    single_cfg = dict(nms_cfg, split_thr=10000)
    single, keep_single = batched_nms(boxes, scores, labels, single_cfg)
    assert 100 < len(keep_split) < 4000
    assert torch.equal(keep_split, keep_single)
    assert torch.equal(split, single)


def test_stock_mmdet_ssd300_config_runs_with_the_plugin():
    """Issue 2: mmdet's own SSD300 config with custom_imports, 6 classes,
    no network: one training step and one prediction (the stock SSDHead
    cannot predict in mmdet 3.3.0 without the plugin's fix)."""
    cfg = Config.fromfile(mmdet_config('ssd/ssd300_coco.py'))
    cfg.merge_from_dict(
        dict(
            custom_imports=dict(imports=['cxr_mmdet']),
            model=dict(
                backbone=dict(init_cfg=None),
                bbox_head=dict(num_classes=6))))
    from mmengine.utils import import_modules_from_strings
    import_modules_from_strings(**cfg.custom_imports)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert type(model.bbox_head).__name__ == 'SSDHead'
    data = model.data_preprocessor(_inputs(300), training=True)
    losses = model(**data, mode='loss')
    sum(sum(v) for v in losses.values()).backward()
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(_inputs(300, 1), training=False)
        preds = model(**data, mode='predict')
    assert preds[0].pred_instances.scores.numel() >= 0
    assert (preds[0].pred_instances.labels < 6).all()
