# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Helpers shared by the tests, the demo and the benchmark (as
``mmdet.testing``): a tiny VOC tree, PNG, DICOM and VinBig CSV writers,
evaluation samples, the configs' model dicts, a small mmengine Runner."""
from .detection_parity import top_k_agreement
from .eval_samples import (eval_sample, run_evaluator,
                           synthetic_detections, synthetic_eval_samples)
from .images import write_dicom, write_png
from .tables import assumed_sizes, write_vinbig_csv
from .toy_runner import ToyDataset, ToyRegressor, toy_loader, toy_runner
from .voc_tree import write_voc_tree

__all__ = [
    'get_config_path', 'get_detector_cfg', 'write_voc_tree', 'write_png',
    'write_dicom', 'write_vinbig_csv', 'assumed_sizes',
    'eval_sample', 'run_evaluator', 'synthetic_detections',
    'synthetic_eval_samples', 'mmdet_config', 'ToyDataset',
    'ToyRegressor', 'toy_loader', 'toy_runner', 'top_k_agreement'
]


def mmdet_config(relative: str) -> str:
    """Path of a config shipped inside the mmdet package (``mmdet::``)."""
    import os.path as osp

    import mmdet
    path = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'mmdet config not found: {path}')
    return path


def get_config_path(relative: str) -> str:
    """Path of a config of this repository's ``configs/`` (as
    ``mmdet.testing``'s config lookup: beside the package folder)."""
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))
    path = osp.join(osp.dirname(root), 'configs', relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'cxr_mmdet config not found: {path}')
    return path


def get_detector_cfg(relative: str):
    """A deep copy of the ``model`` dict of ``configs/<relative>``."""
    import copy

    from mmengine.config import Config
    return copy.deepcopy(Config.fromfile(get_config_path(relative)).model)
