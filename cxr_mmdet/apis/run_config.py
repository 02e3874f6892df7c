# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Turn the train/test command lines into mmengine configs (mmdet's way)."""
from __future__ import annotations

import copy
import os
import os.path as osp
import uuid
from collections.abc import Sequence

import torch
from mmengine.config import Config

from ..compat import cpu_distributed_cfg
from ..deployment.wbf_fusion import WBF_IOU_THR
from ..engine.optim_wrappers import cpu_bf16_supported
from .checkpoint import check_checkpoint_file

#: Optim wrapper ``--amp`` selects, by whether CUDA is available.
AMP_OPTIM_WRAPPERS = {True: 'AmpOptimWrapper', False: 'BF16OptimWrapper'}


def amp_optim_wrapper(optim_wrapper: dict, cuda_available: bool) -> dict:
    """The ``optim_wrapper`` config ``--amp`` turns ``optim_wrapper`` into:
    mmengine's ``AmpOptimWrapper`` (dynamic loss scale) with CUDA, the
    plugin's ``BF16OptimWrapper`` (bf16 forced on) without.

    Examples:
        >>> amp_optim_wrapper(dict(type='OptimWrapper'), True)['type']
        'AmpOptimWrapper'
        >>> amp_optim_wrapper(dict(type='OptimWrapper'), False)
        {'type': 'BF16OptimWrapper', 'enabled': True}
    """
    cfg = {k: v for k, v in optim_wrapper.items()
           if k not in ('loss_scale', 'enabled', 'dtype')}
    cfg['type'] = AMP_OPTIM_WRAPPERS[bool(cuda_available)]
    if cuda_available:
        cfg['loss_scale'] = 'dynamic'
    else:
        cfg['enabled'] = True
    return cfg


def loop_autocast(amp: bool, optim_wrapper: dict | None,
                  cuda_available: bool, cpu_bf16: bool) -> bool:
    """Whether val/test loops run under autocast (mmengine's
    ``ValLoop``/``TestLoop`` ``fp16``: fp16 on CUDA, bf16 on CPU).

    ``--amp`` turns it on; otherwise a ``BF16OptimWrapper`` in the config
    does on a CPU-only machine (``enabled='auto'``: where the CPU has
    native bf16).

    Examples:
        >>> loop_autocast(True, None, False, False)
        True
        >>> bf16 = dict(type='BF16OptimWrapper', enabled='auto')
        >>> loop_autocast(False, bf16, False, True)
        True
        >>> loop_autocast(False, bf16, False, False)
        False
        >>> loop_autocast(False, bf16, True, True)
        False
    """
    if amp:
        return True
    if (not optim_wrapper or cuda_available
            or optim_wrapper.get('type') != 'BF16OptimWrapper'):
        return False
    enabled = optim_wrapper.get('enabled', 'auto')
    return cpu_bf16 if enabled == 'auto' else bool(enabled)


def _set_loop_autocast(cfg: Config, amp: bool) -> None:
    """Turn on the loops' autocast per :func:`loop_autocast` (a config's
    own ``fp16=True`` is kept)."""
    if loop_autocast(amp, cfg.get('optim_wrapper'),
                     torch.cuda.is_available(), cpu_bf16_supported()):
        for loop in ('val_cfg', 'test_cfg'):
            if cfg.get(loop) is not None:
                cfg[loop]['fp16'] = True


def _default_work_dir(config: str) -> str:
    return osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])


def _unique_visualizer(cfg: Config) -> None:
    """Give the visualizer a name of its own.

    mmengine keeps one visualizer per name per process and hands the
    existing one to a later Runner, whose scalars (``vis_data``) then go
    to the first Runner's work dir. mmdet's runtime names it
    ``'visualizer'``, so a second run in one process (``run_demo.py``
    trains then tests) would write to the wrong place.
    """
    if cfg.get('visualizer') is not None:
        base = cfg.visualizer.get('name', 'visualizer')
        cfg.visualizer.name = f'{base}_{uuid.uuid4().hex[:8]}'


def _load_cfg(config: str, work_dir: str | None, cfg_options: dict | None,
              launcher: str) -> Config:
    """Load ``config`` with the options train and test share (mmdet's
    order: ``--cfg-options``, then ``--work-dir`` > config > file name)."""
    if not osp.isfile(config):
        raise FileNotFoundError(f'no config file at {config!r}')
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = _default_work_dir(config)
    return cfg


def _check_checkpoint_file(path: str, option: str) -> None:
    """A local checkpoint named by ``option`` exists and is not damaged."""
    if '://' not in path:
        check_checkpoint_file(path, option)


def _adapt_to_process(cfg: Config) -> None:
    """CPU-distributed settings and a visualizer of this run's own."""
    cpu_distributed_cfg(cfg)
    _unique_visualizer(cfg)


def build_train_cfg(config: str,
                    work_dir: str | None = None,
                    resume: str | None = None,
                    amp: bool = False,
                    auto_scale_lr: bool = False,
                    cfg_options: dict | None = None,
                    launcher: str = 'none') -> Config:
    """Load ``config`` and apply ``tools/train.py``'s options to it.

    Mirrors mmdet's ``tools/train.py``: ``resume='auto'`` resumes from the
    latest checkpoint of the work dir, a path resumes from that file.
    """
    cfg = _load_cfg(config, work_dir, cfg_options, launcher)
    if amp:
        cfg.optim_wrapper = amp_optim_wrapper(
            dict(cfg.optim_wrapper), torch.cuda.is_available())
    _set_loop_autocast(cfg, amp)
    if auto_scale_lr:
        if not ('auto_scale_lr' in cfg and 'base_batch_size'
                in cfg.auto_scale_lr):
            raise RuntimeError(
                f'{config}: --auto-scale-lr needs auto_scale_lr.'
                'base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        _check_checkpoint_file(resume, '--resume')
        cfg.resume = True
        cfg.load_from = resume
    elif cfg.get('load_from'):
        _check_checkpoint_file(cfg.load_from, 'load_from')
    _adapt_to_process(cfg)
    return cfg


#: The image sets ``tools/test.py --split`` chooses between.
SPLITS = ('val', 'test')


def split_ann_file(ann_file: str, split: str) -> str:
    """``ann_file`` pointed at ``<split>.txt`` in its own folder.

    >>> split_ann_file('VOC2007/ImageSets/Main/test.txt', 'val')
    'VOC2007/ImageSets/Main/val.txt'
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS!r}, got {split!r}')
    return osp.join(osp.dirname(ann_file), f'{split}.txt')


def _set_test_split(cfg: Config, config: str, split: str) -> None:
    dataset = cfg.test_dataloader.dataset
    if not dataset.get('ann_file'):
        raise ValueError(f'{config}: --split {split} needs '
                         'test_dataloader.dataset.ann_file in the config')
    # a copy: configs often say ``test_dataloader = val_dataloader``
    cfg.test_dataloader = copy.deepcopy(cfg.test_dataloader)
    cfg.test_dataloader.dataset.ann_file = split_ann_file(
        dataset.ann_file, split)


def build_test_cfg(config: str,
                   checkpoint: str,
                   work_dir: str | None = None,
                   split: str | None = 'test',
                   out: str | None = None,
                   show_dir: str | None = None,
                   tta: bool = False,
                   cfg_options: dict | None = None,
                   launcher: str = 'none',
                   amp: bool = False,
                   ensemble: Sequence[str] = (),
                   wbf_tta: str = 'none',
                   wbf_iou_thr: float = WBF_IOU_THR,
                   wbf_skip_thr: float = 0.0) -> Config:
    """Load ``config`` and apply ``tools/test.py``'s options to it.

    ``split`` (``'val'`` or ``'test'``) points the test loader's
    ``ann_file`` at ``ImageSets/Main/<split>.txt``; None keeps the
    config's. ``amp`` runs the test loop under autocast (see
    :func:`loop_autocast`). ``ensemble`` (more checkpoints) or ``wbf_tta
    ='flip'`` wrap the model in ``CXRWBFEnsemble`` over ``checkpoint`` and
    ``ensemble``, fused by WBF at ``wbf_iou_thr`` / ``wbf_skip_thr``; the
    ensemble loads the checkpoints itself (``load_from`` is cleared).
    """
    _check_checkpoint_file(checkpoint, 'checkpoint')
    if tta and (ensemble or wbf_tta != 'none'):
        raise ValueError('--tta (mmdet\'s NMS merge) cannot be combined '
                         'with --ensemble or --tta flip (WBF)')
    cfg = _load_cfg(config, work_dir, cfg_options, launcher)
    if split is not None:
        _set_test_split(cfg, config, split)
    cfg.load_from = checkpoint
    cfg.resume = False
    if show_dir is not None:
        vis = cfg.default_hooks.get('visualization')
        if vis is None:
            raise RuntimeError(f'{config}: --show-dir needs a '
                               'visualization hook in default_hooks')
        vis['draw'] = True
        vis['test_out_dir'] = osp.abspath(show_dir)
    if tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise RuntimeError(f'{config}: --tta needs tta_model and '
                               'tta_pipeline in the config')
        cfg.model = dict(**cfg.tta_model, module=cfg.model)
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
    if ensemble or wbf_tta != 'none':
        for path in ensemble:
            _check_checkpoint_file(path, '--ensemble')
        cfg.model = dict(
            type='CXRWBFEnsemble',
            module=cfg.model,
            checkpoints=[checkpoint, *ensemble],
            tta=wbf_tta,
            iou_thr=wbf_iou_thr,
            skip_thr=wbf_skip_thr)
        cfg.load_from = None
    _set_loop_autocast(cfg, amp)
    if out is not None:
        if not out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {out!r}')
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        evaluators = cfg.test_evaluator
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        cfg.test_evaluator = list(evaluators) + [
            dict(type='DumpDetResults', out_file_path=out)
        ]
    _adapt_to_process(cfg)
    return cfg
