# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A tiny SSD (the demo's SSDLite config, seeded weights, no training),
its checkpoint, its ONNX export and a few prepared images, shared by the
deployment tests."""
from __future__ import annotations

import importlib.util
import os.path as osp

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'ssd',
                  'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')


def load_tool(relative: str):
    """``tools/<relative>`` as a module (its ``main`` called in-process)."""
    path = osp.join(ROOT, 'tools', relative)
    name = 'tool_' + relative.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tiny_checkpoint(path: str, seed: int = 0) -> str:
    """A checkpoint of the demo config's model with seeded random weights
    (Kaiming-normal convolutions; the classifier's last convolutions with
    small weights and unit-normal biases), so that the class scores are
    spread out: an initialised, untrained SSDLite scores every anchor
    alike, and ties would make the detection order arbitrary."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
    init_default_scope('mmdet')
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight)
        for branch in model.bbox_head.cls_convs:
            last = list(branch.modules())[-1]
            last.weight.normal_(0, 0.01)
            last.bias.normal_(0, 1)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(
                dataset_meta=dict(
                    classes=list(CXR_CLASSES),
                    palette=[list(c) for c in CXR_PALETTE]))), path)
    return path


@pytest.fixture(scope='package')
def tiny(tmp_path_factory) -> dict:
    """The tiny checkpoint, its ONNX export by ``export_onnx.py`` (+ meta),
    a VOC tree and its prepared test images (300x300 arrays as prep writes
    them)."""
    pytest.importorskip('onnx', reason='the deploy extra is not installed')
    from cxr_mmdet.apis.inference import prepare_input
    from cxr_mmdet.testing import write_voc_tree
    tmp = tmp_path_factory.mktemp('deploy')
    data_root = str(tmp / 'VOCdevkit')
    truth = write_voc_tree(data_root, num_trainval=2, num_test=3, size=300,
                           num_negatives=0)
    ckpt = write_tiny_checkpoint(str(tmp / 'tiny.pth'))
    # exported by the tool, as a user would
    tool = load_tool('deployment/export_onnx.py')
    onnx_path, meta_path = tool.main(
        tool.parse_args([CONFIG, ckpt, '--out', str(tmp / 'tiny.onnx')]))
    images = [
        osp.join(data_root, 'VOC2007', 'JPEGImages', t['filename'])
        for t in truth.values() if t['split'] == 'test'
    ]
    arrays = [prepare_input(p, 300)[0] for p in images]
    return dict(tmp=tmp, data_root=data_root, checkpoint=ckpt,
                onnx=onnx_path, meta=meta_path, images=images,
                arrays=arrays)


@pytest.fixture(scope='package')
def pytorch_detector(tiny):
    """The tiny checkpoint through mmdet (``PyTorchDetector``)."""
    from cxr_mmdet.apis.inference import PyTorchDetector, load_detector
    return PyTorchDetector(load_detector(CONFIG, tiny['checkpoint']))
