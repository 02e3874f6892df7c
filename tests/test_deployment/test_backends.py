# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ONNX Runtime and OpenVINO give PyTorch's detections: top-10 boxes at
IoU >= 0.99, scores within 1e-3, on every test image."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cxr_mmdet.deployment import (Detections, MissingExtraError,
                                  load_backend_detector, read_deploy_meta,
                                  ssd_detections, to_network_input)
from cxr_mmdet.testing import top_k_agreement


@pytest.mark.parametrize('backend,module', [('onnxruntime', 'onnxruntime'),
                                            ('openvino', 'openvino')])
def test_backend_detections_equal_pytorchs(tiny, pytorch_detector, backend,
                                           module):
    pytest.importorskip(module, reason='the deploy extra is not installed')
    detector = load_backend_detector(backend, tiny['onnx'])
    assert detector.classes == pytorch_detector.classes
    batched = detector.predict(tiny['arrays'])
    for img, in_batch in zip(tiny['arrays'], batched):
        ref = pytorch_detector(img)
        got = detector(img)
        assert len(ref.boxes) >= 10
        for dets in (got, in_batch):
            iou, score_diff = top_k_agreement(ref, dets, 10)
            assert iou >= 0.99 and score_diff <= 1e-3, (iou, score_diff)


def test_numpy_post_processing_equals_mmdets_head(tiny, pytorch_detector):
    """The same graph outputs through ``ssd_detections`` and through the
    head's ``predict_by_feat`` (PyTorch outputs of the exported module)."""
    from cxr_mmdet.deployment import SSDRawOutputs
    model = pytorch_detector.inferencer.model
    meta = read_deploy_meta(tiny['meta'])
    batch, scales = to_network_input(tiny['arrays'][:1], meta)
    with torch.no_grad():
        scores, deltas = SSDRawOutputs(model)(torch.from_numpy(batch))
        feats = model.extract_feat(torch.from_numpy(batch))
        cls, reg = model.bbox_head(feats)
        (mmdet_result, ) = model.bbox_head.predict_by_feat(
            cls, reg,
            batch_img_metas=[dict(img_shape=meta.input_size,
                                  scale_factor=tuple(scales[0].tolist()))],
            rescale=True)
    ours = ssd_detections(scores[0].numpy(), deltas[0].numpy(), meta,
                          scales[0])
    theirs = Detections.of(mmdet_result.bboxes, mmdet_result.scores,
                           mmdet_result.labels)
    assert len(ours.boxes) == len(theirs.boxes)
    np.testing.assert_allclose(ours.scores, theirs.scores, atol=1e-6)
    np.testing.assert_allclose(ours.boxes, theirs.boxes, atol=1e-3)
    assert np.array_equal(ours.labels, theirs.labels)


def test_missing_extra_names_the_install_command(monkeypatch, tiny):
    import sys
    monkeypatch.setitem(sys.modules, 'openvino', None)  # import fails
    with pytest.raises(MissingExtraError, match=r"pip install -e '\.\[deploy"):
        load_backend_detector('openvino', tiny['onnx'])
