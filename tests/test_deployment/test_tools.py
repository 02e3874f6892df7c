# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/test.py --ensemble --tta flip and tools/infer.py --backend."""
from __future__ import annotations

import json
import os.path as osp

import pytest

from ..test_apis.test_train_test_infer import data_options
from .conftest import CONFIG, load_tool


def _cfg_words(data_root: str) -> list[str]:
    return [f'{k}={v}' for k, v in data_options(data_root).items()]


def test_test_ensemble_flip_writes_the_plain_runs_metric_keys(tiny):
    tool = load_tool('test.py')
    plain_dir = str(tiny['tmp'] / 'plain')
    fused_dir = str(tiny['tmp'] / 'fused')
    common = ['--cfg-options', *_cfg_words(tiny['data_root'])]
    plain = tool.main(tool.parse_args(
        [CONFIG, tiny['checkpoint'], '--work-dir', plain_dir, *common]))
    fused = tool.main(tool.parse_args([
        CONFIG, tiny['checkpoint'], '--ensemble', tiny['checkpoint'],
        '--tta', 'flip', '--wbf-iou-thr', '0.5', '--work-dir', fused_dir,
        *common
    ]))
    assert sorted(fused) == sorted(plain)
    with open(osp.join(plain_dir, 'metrics.json')) as f:
        plain_file = json.load(f)
    with open(osp.join(fused_dir, 'metrics.json')) as f:
        fused_file = json.load(f)
    assert sorted(fused_file) == sorted(plain_file)
    # mmdet's TTA and WBF do not combine
    with pytest.raises(ValueError, match='cannot be combined'):
        tool.main(tool.parse_args([CONFIG, tiny['checkpoint'], '--tta',
                                   '--ensemble', tiny['checkpoint'],
                                   *common]))


@pytest.mark.parametrize('backend', ['onnxruntime', 'pytorch'])
def test_infer_backend_writes_predictions(tiny, backend):
    pytest.importorskip('onnxruntime',
                        reason='the deploy extra is not installed')
    import numpy as np

    from cxr_mmdet.testing import write_dicom
    tool = load_tool('infer.py')
    out_dir = str(tiny['tmp'] / f'infer_{backend}')
    extra = ['--backend', backend]
    if backend != 'pytorch':
        extra += ['--onnx', tiny['onnx']]
    # a DICOM too: prep's reader (MONOCHROME1, 16 bits) on every backend
    scan = tiny['tmp'] / 'scan.dcm'
    if not scan.exists():
        ramp = np.linspace(0, 4000, 200 * 240).reshape(200, 240)
        write_dicom(scan, ramp.astype(np.uint16))
    record = tool.main(tool.parse_args([
        CONFIG, tiny['checkpoint'], *tiny['images'], str(scan), '--out-dir',
        out_dir,
        '--prep-size', '300', '--no-progress', '--score-thr', '0.2', *extra
    ]))
    with open(osp.join(out_dir, 'predictions.json')) as f:
        written = json.load(f)
    assert written['backend'] == backend
    assert len(written['images']) == len(tiny['images']) + 1
    assert written['images'][-1]['file'].endswith('scan.dcm')
    assert (written['images'][-1]['width'],
            written['images'][-1]['height']) == (240, 200)
    assert all(osp.isfile(r['overlay']) for r in written['images'])
    assert any(r['detections'] for r in written['images'])
    tiny.setdefault('infer', {})[backend] = record


def test_infer_backends_agree(tiny):
    runs = tiny.get('infer', {})
    if len(runs) < 2:
        pytest.skip('needs both infer runs above')
    for ort_img, pt_img in zip(runs['onnxruntime']['images'],
                               runs['pytorch']['images']):
        top_ort = [d['bbox'] for d in ort_img['detections'][:10]]
        top_pt = [d['bbox'] for d in pt_img['detections'][:10]]
        assert len(top_ort) == len(top_pt)
        for a, b in zip(sorted(top_ort), sorted(top_pt)):
            assert a == pytest.approx(b, abs=0.05)


def test_onnx_backend_needs_the_graph(tiny):
    tool = load_tool('infer.py')
    with pytest.raises(ValueError, match='needs --onnx'):
        tool.main(tool.parse_args([
            CONFIG, tiny['checkpoint'], tiny['images'][0], '--out-dir',
            str(tiny['tmp'] / 'x'), '--backend', 'openvino'
        ]))
