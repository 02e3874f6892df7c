# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""What a backend needs beside the ONNX graph, as a small JSON file.

``model.onnx`` is written with ``model.deploy.json``: the input size and
normalisation, the class names, the anchors (one ``x1, y1, x2, y2`` row
per anchor, in the graph's output order), the ``DeltaXYWHBBoxCoder``
settings and the head's ``test_cfg`` (score threshold, ``nms_pre``, NMS
IoU, ``max_per_img``, ``min_bbox_size``). Reading it needs only numpy.
"""
from __future__ import annotations

import json
import os.path as osp
from dataclasses import asdict, dataclass, field

import numpy as np

#: Bumped when a field changes meaning.
FORMAT_VERSION = 1


@dataclass
class DeployMeta:
    """Pre- and post-processing of an exported SSD.

    Attributes:
        input_size: ``(height, width)`` the graph takes.
        mean, std: per channel, applied after the channel swap.
        to_rgb: swap BGR (the loaders' order) to RGB first.
        classes: class names; label ``i`` is ``classes[i]``.
        anchors: (N, 4) float32 priors in the order of the graph's anchor
            axis (level by level, then row, column, anchor).
        level_sizes: anchors per feature level (``nms_pre`` is per level).
        target_means, target_stds, wh_ratio_clip, clip_border,
            add_ctr_clamp, ctr_clamp: the ``DeltaXYWHBBoxCoder``'s.
        score_thr, nms_pre, iou_thr, max_per_img, min_bbox_size: the
            head's ``test_cfg``.
        outputs: the graph's output names, ``scores`` (B, N, C) class
            probabilities (softmax without the background column, or
            sigmoid) and ``deltas`` (B, N, 4) raw box deltas.
    """
    input_size: tuple[int, int]
    mean: list[float]
    std: list[float]
    to_rgb: bool
    classes: list[str]
    anchors: np.ndarray
    level_sizes: list[int]
    target_means: list[float] = field(
        default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    target_stds: list[float] = field(
        default_factory=lambda: [1.0, 1.0, 1.0, 1.0])
    wh_ratio_clip: float = 16 / 1000
    clip_border: bool = True
    add_ctr_clamp: bool = False
    ctr_clamp: float = 32.0
    score_thr: float = 0.02
    nms_pre: int = 1000
    iou_thr: float = 0.45
    max_per_img: int = 200
    min_bbox_size: float = 0.0
    outputs: tuple[str, str] = ('scores', 'deltas')
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        self.input_size = tuple(int(v) for v in self.input_size)
        self.outputs = tuple(self.outputs)
        self.anchors = np.asarray(self.anchors, np.float32).reshape(-1, 4)
        if sum(self.level_sizes) != len(self.anchors):
            raise ValueError(f'level_sizes {self.level_sizes!r} sum to '
                             f'{sum(self.level_sizes)}, but there are '
                             f'{len(self.anchors)} anchors')

    def to_json(self) -> dict:
        """A JSON-ready dict (anchors as lists of floats, exact)."""
        record = asdict(self)
        record['anchors'] = self.anchors.astype(float).tolist()
        record['input_size'] = list(self.input_size)
        record['outputs'] = list(self.outputs)
        return record

    @classmethod
    def from_json(cls, record: dict) -> 'DeployMeta':
        version = record.get('format_version')
        if version != FORMAT_VERSION:
            raise ValueError(f'deploy meta format_version {version!r} is not '
                             f'the supported {FORMAT_VERSION}')
        return cls(**record)


def deploy_meta_path(onnx_path: str) -> str:
    """``model.onnx`` -> ``model.deploy.json`` (beside it).

    >>> deploy_meta_path('out/model.onnx')
    'out/model.deploy.json'
    """
    return osp.splitext(onnx_path)[0] + '.deploy.json'


def write_deploy_meta(meta: DeployMeta, path: str) -> str:
    """Write ``meta`` as JSON to ``path``; return the path."""
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(meta.to_json(), f)
    return path


def read_deploy_meta(path: str) -> DeployMeta:
    """Read what :func:`write_deploy_meta` wrote.

    Raises:
        FileNotFoundError: naming the file, if it is missing.
        ValueError: naming the file, if it is not such a JSON.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'no deploy meta JSON at {path!r} (written '
                                'beside the .onnx by export_onnx.py)')
    try:
        with open(path, encoding='utf-8') as f:
            return DeployMeta.from_json(json.load(f))
    except (ValueError, TypeError) as err:
        raise ValueError(f'{path!r} is not a deploy meta JSON: {err}') \
            from err
