# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Train the four class-imbalance remedies on one schedule and compare them.

Each variant config (no rebalancing, sampler only, class weights only,
both) says its remedy in four places: the head's type and
``class_weight``, the training sampler, ``filter_empty_gt`` of the
training set, and whether ``ClassWeightHook`` is in ``custom_hooks``.
:func:`imbalance_remedy` reads them and :func:`apply_imbalance_remedy`
writes them into another config (the demo's), so every variant trains with
the same model, data and schedule and differs only in its remedy.
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
import uuid
from collections.abc import Mapping, Sequence

from mmengine.config import Config, ConfigDict

from ..classes import CXR_CLASSES
from .run_config import build_train_cfg

_CONFIG_DIR = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'ssd')

#: variant name -> its config: none, sampler only, weights only, both
IMBALANCE_VARIANTS: dict[str, str] = {
    'none': osp.join(_CONFIG_DIR,
                     'ssd300_vgg16_1xb64-300e_cxr6-stock-head.py'),
    'sampler': osp.join(_CONFIG_DIR,
                        'ssd300_vgg16_1xb64-300e_cxr6-sampler-only.py'),
    'weights': osp.join(_CONFIG_DIR,
                        'ssd300_vgg16_1xb64-300e_cxr6-weights-only.py'),
    'both': osp.join(_CONFIG_DIR, 'ssd300_vgg16_1xb64-300e_cxr6.py'),
}

DEMO_CONFIG = osp.join(_CONFIG_DIR,
                       'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')

_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def imbalance_remedy(cfg: Config) -> dict:
    """Read the class-imbalance remedy of a config.

    Returns:
        dict: ``head_type``, ``class_weight`` (None for the stock head),
        ``sampler`` (the training sampler dict), ``filter_empty_gt`` and
        ``class_weight_hook`` (the ``ClassWeightHook`` dict or None).
    """
    head = cfg.model.bbox_head
    hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] == 'ClassWeightHook'
    ]
    filter_cfg = cfg.train_dataloader.dataset.get('filter_cfg') or {}
    return dict(
        head_type=head.type,
        class_weight=copy.deepcopy(head.get('class_weight')),
        sampler=copy.deepcopy(cfg.train_dataloader.sampler.to_dict()),
        filter_empty_gt=bool(filter_cfg.get('filter_empty_gt', False)),
        class_weight_hook=(copy.deepcopy(dict(hooks[0])) if hooks else None))


def apply_imbalance_remedy(cfg: Config, remedy: Mapping) -> None:
    """Give ``cfg`` the remedy of :func:`imbalance_remedy`, in place."""
    head = cfg.model.bbox_head
    head.type = remedy['head_type']
    if remedy['head_type'] == 'SSDHead':
        head.pop('class_weight', None)
    else:
        head.class_weight = copy.deepcopy(remedy['class_weight'])
    cfg.train_dataloader.sampler = ConfigDict(
        copy.deepcopy(dict(remedy['sampler'])))
    dataset = cfg.train_dataloader.dataset
    filter_cfg = dict(dataset.get('filter_cfg') or {})
    filter_cfg['filter_empty_gt'] = bool(remedy['filter_empty_gt'])
    dataset.filter_cfg = filter_cfg
    hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h['type'] != 'ClassWeightHook'
    ]
    if remedy['class_weight_hook'] is not None:
        hooks.append(copy.deepcopy(dict(remedy['class_weight_hook'])))
    cfg.custom_hooks = hooks


def ablation_cfg(variant_config: str,
                 base_config: str,
                 work_dir: str,
                 data_root: str | None = None,
                 max_epochs: int | None = None,
                 cfg_options: dict | None = None) -> Config:
    """The config one variant trains with: ``base_config`` (data, model,
    schedule) with ``variant_config``'s remedy."""
    remedy = imbalance_remedy(Config.fromfile(variant_config))
    options = {}
    if data_root is not None:
        options.update(
            {f'{loader}.dataset.data_root': data_root
             for loader in _LOADERS})
    if max_epochs is not None:
        options['train_cfg.max_epochs'] = max_epochs
        options['train_cfg.val_interval'] = max_epochs
    options.update(cfg_options or {})
    cfg = build_train_cfg(base_config, work_dir=work_dir,
                          cfg_options=options)
    apply_imbalance_remedy(cfg, remedy)
    cfg.experiment_name = (f'{osp.basename(osp.normpath(work_dir))}_'
                           f'{uuid.uuid4().hex[:8]}')
    return cfg


def ap50_summary(metrics: Mapping,
                 classes: Sequence[str] = CXR_CLASSES) -> dict:
    """mAP@.5 and per-class AP@.5 from ``CXRCocoMetric``'s metrics
    (``coco/bbox_mAP_50`` and, with ``classwise=True``,
    ``coco/<class>_precision_50``).

    Returns:
        dict: ``mAP@.5`` and ``per_class`` (class -> AP@.5); None where the
        metric gave no value (a class absent from the split).
    """

    def value(key: str) -> float | None:
        number = metrics.get(key)
        if number is None:
            return None
        number = float(number)
        return None if number != number or number < 0 else number

    return {
        'mAP@.5': value('coco/bbox_mAP_50'),
        'per_class': {c: value(f'coco/{c}_precision_50')
                      for c in classes}
    }


def run_imbalance_ablation(
        work_dir: str,
        data_root: str | None = None,
        variants: Mapping[str, str] | None = None,
        base_config: str = DEMO_CONFIG,
        max_epochs: int | None = None,
        cfg_options: dict | None = None,
        classes: Sequence[str] = CXR_CLASSES) -> dict:
    """Train and evaluate (val and test) each variant; return the table.

    Each variant trains in ``work_dir/<name>`` with ``base_config``'s
    model, data and schedule and its own remedy; the final weights are
    evaluated on the val and test splits.

    Returns:
        dict: ``base_config``, ``max_epochs``, ``classes`` and ``variants``
        (name -> ``config``, ``remedy``, ``val`` and ``test`` as
        :func:`ap50_summary`).
    """
    from mmengine.runner import Runner
    variants = dict(IMBALANCE_VARIANTS if variants is None else variants)
    table: dict = dict(
        base_config=osp.basename(base_config),
        max_epochs=max_epochs,
        classes=list(classes),
        variants={})
    for name, variant_config in variants.items():
        cfg = ablation_cfg(variant_config, base_config,
                           osp.join(work_dir, name), data_root, max_epochs,
                           cfg_options)
        runner = Runner.from_cfg(cfg)
        runner.train()
        val_metrics = runner.val()
        test_metrics = runner.test()
        table['variants'][name] = dict(
            config=osp.basename(variant_config),
            remedy=imbalance_remedy(Config.fromfile(variant_config)),
            val=ap50_summary(val_metrics, classes),
            test=ap50_summary(test_metrics, classes))
    return table


def _fmt(value: float | None) -> str:
    return 'n/a' if value is None else f'{value:.3f}'


def format_ablation_markdown(table: Mapping) -> str:
    """One markdown table: a row per variant and split, mAP@.5 and the
    per-class AP@.5."""
    classes = list(table['classes'])
    lines = [
        '| variant | config | split | mAP@.5 | ' + ' | '.join(classes) +
        ' |',
        '|---|---|---|---:|' + '---:|' * len(classes)
    ]
    for name, row in table['variants'].items():
        for split in ('val', 'test'):
            result = row[split]
            cells = [name, f'`{row["config"]}`', split,
                     _fmt(result['mAP@.5'])]
            cells += [_fmt(result['per_class'].get(c)) for c in classes]
            lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def write_ablation_table(table: Mapping, out_dir: str) -> list[str]:
    """Write ``imbalance_ablation.json`` and ``imbalance_ablation.md``.

    Returns:
        list[str]: the paths written.
    """
    os.makedirs(out_dir, exist_ok=True)
    json_path = osp.join(out_dir, 'imbalance_ablation.json')
    md_path = osp.join(out_dir, 'imbalance_ablation.md')
    with open(json_path, 'w', encoding='utf-8') as f:
        json.dump(table, f, indent=2)
    with open(md_path, 'w', encoding='utf-8') as f:
        f.write(format_ablation_markdown(table))
    return [json_path, md_path]
