# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The export: a checked graph with a dynamic batch, and its meta JSON."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.deployment import (DeployMeta, read_deploy_meta,
                                  write_deploy_meta)

from .conftest import CONFIG, load_tool


def test_export_passes_the_checker_with_a_dynamic_batch(tiny):
    import onnx
    model = onnx.load(tiny['onnx'])
    onnx.checker.check_model(model, full_check=True)
    (images, ) = model.graph.input
    dims = images.type.tensor_type.shape.dim
    assert dims[0].dim_param  # symbolic batch
    # the SSDLite config's test pipeline resizes to 320x320
    assert [d.dim_value for d in dims[1:]] == [3, 320, 320]
    assert [o.name for o in model.graph.output] == ['scores', 'deltas']
    meta = read_deploy_meta(tiny['meta'])
    assert meta.classes == list(CXR_CLASSES)
    assert meta.input_size == (320, 320)
    assert sum(meta.level_sizes) == len(meta.anchors)


def test_the_meta_holds_the_heads_anchors_and_test_cfg(tiny):
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    meta = read_deploy_meta(tiny['meta'])
    test_cfg = cfg.model.test_cfg
    assert meta.score_thr == test_cfg.score_thr
    assert meta.nms_pre == test_cfg.nms_pre
    assert meta.iou_thr == test_cfg.nms.iou_threshold
    assert meta.max_per_img == test_cfg.max_per_img
    coder = cfg.model.bbox_head.bbox_coder
    assert meta.target_stds == list(coder.target_stds)
    pre = cfg.model.data_preprocessor
    assert meta.mean == pytest.approx(pre.mean)
    assert meta.std == pytest.approx(pre.std)
    assert meta.to_rgb == pre.bgr_to_rgb


def test_meta_json_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(0)
    meta = DeployMeta((300, 200), [1.5, 2.5, 3.5], [4.0, 5.0, 6.0], True,
                      ['a', 'b'],
                      rng.uniform(-10, 310, (7, 4)).astype(np.float32),
                      [4, 3], target_stds=[0.1, 0.1, 0.2, 0.2],
                      score_thr=0.02, nms_pre=1000, iou_thr=0.45,
                      max_per_img=200)
    path = write_deploy_meta(meta, str(tmp_path / 'm.deploy.json'))
    back = read_deploy_meta(path)
    assert np.array_equal(back.anchors, meta.anchors)
    assert back.anchors.dtype == np.float32
    back_dict, meta_dict = back.to_json(), meta.to_json()
    assert back_dict == meta_dict
    record = json.load(open(path))
    record['format_version'] = 99
    json.dump(record, open(path, 'w'))
    with pytest.raises(ValueError, match='format_version 99'):
        read_deploy_meta(path)


def test_export_tool_writes_both_files(tiny):
    """The fixture exported through the tool: both files beside each
    other; a wrong ``--out`` is refused."""
    assert tiny['onnx'].endswith('tiny.onnx')
    assert tiny['meta'] == tiny['onnx'][:-len('.onnx')] + '.deploy.json'
    tool = load_tool('deployment/export_onnx.py')
    with pytest.raises(ValueError, match='--out must end in .onnx'):
        tool.main(tool.parse_args([CONFIG, tiny['checkpoint'], '--out',
                                   'model.bin']))
