# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The plotting functions write real, non-blank PNGs."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.visualization.plots import (plot_loss_curves,
                                           plot_metric_curves, plot_per_class,
                                           plot_roc_curves)


def assert_real_png(path, min_size=(400, 300)):
    with Image.open(path) as im:
        assert im.format == 'PNG'
        assert im.size[0] >= min_size[0] and im.size[1] >= min_size[1]
        pixels = np.asarray(im.convert('L'), dtype=np.float64)
    # drawn, not blank: many pixels differ from the background
    assert (pixels < 200).mean() > 0.01


def test_roc_curves_png(tmp_path):
    curves = {
        'Cardiomegaly': dict(fpr=[0, 0.1, 1], tpr=[0, 0.8, 1], auc=0.85),
        'Nodule/Mass': dict(fpr=[0, 0.5, 1], tpr=[0, 0.5, 1], auc=0.5),
    }
    out = plot_roc_curves(
        curves,
        tmp_path / 'sub/roc.png',
        'val epoch 3',
        missing=['Pulmonary fibrosis'],
        palette=CXR_PALETTE)
    assert out == tmp_path / 'sub/roc.png'
    assert_real_png(out)


def test_roc_curves_png_without_any_curve(tmp_path):
    assert_real_png(plot_roc_curves({}, tmp_path / 'roc.png'))


def test_loss_and_metric_pngs(tmp_path):
    losses = {
        'loss': [3, 2, 1.5, 1.2],
        'loss_cls': [2, 1.5, 1, 0.8],
        'loss_bbox': [1, 0.5, 0.5, math.nan]
    }
    assert_real_png(
        plot_loss_curves([1, 2, 3, 4], losses, tmp_path / 'loss.png', [2, 4]))
    metrics = {
        'coco/bbox_mAP': [0.1, 0.2, math.nan, 0.3],
        'cxr/mAUC': [0.6, 0.7, 0.72, 0.8]
    }
    assert_real_png(
        plot_metric_curves([1, 2, 3, 4], metrics, tmp_path / 'metrics.png',
                           {'cxr/mAUC': 'mAUC'}, [2]))
    # nothing logged yet: a PNG that says so
    assert_real_png(plot_loss_curves([], {}, tmp_path / 'empty.png'))


def test_per_class_png_with_missing_values(tmp_path):
    values = {
        'AP': {
            n: 0.1 * i
            for i, n in enumerate(CXR_CLASSES)
        },
        'AUC': {
            CXR_CLASSES[0]: 0.9,
            CXR_CLASSES[1]: math.nan
        },
    }
    assert_real_png(
        plot_per_class(CXR_CLASSES, values, tmp_path / 'per_class.png'))


@pytest.mark.parametrize('bad', [None, 'x'])
def test_per_class_tolerates_non_numbers_as_missing(tmp_path, bad):
    out = plot_per_class(['a', 'b'], {'AP': {
        'a': 0.5,
        'b': bad
    }}, tmp_path / 'p.png')
    assert out.is_file()
