# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ensemble_boxes import weighted_boxes_fusion

from cxr_mmdet.data_prep.fusion import fuse_radiologist_boxes
from cxr_mmdet.data_prep.label_map import (apply_label_map,
                                           default_label_maps)

COLUMNS = ['image_id', 'file_name', 'source', 'group', 'reader', 'label',
           'class_name', 'x0', 'y0', 'x1', 'y1']


def _rows(rows, source='vinbig'):
    out = []
    for image_id, reader, name, x0, y0, x1, y1 in rows:
        out.append((image_id, image_id, source, f'{source}:{image_id}',
                    reader, name, name, x0, y0, x1, y1))
    return pd.DataFrame(out, columns=COLUMNS)


def _xy(frame):
    return frame[['x0', 'y0', 'x1', 'y1']].to_numpy(float)


def test_separate_lesions_of_one_class_stay_separate():
    """The replaced system kept boxes[0]: one box per image and class."""
    left = np.array([100, 100, 300, 300], float)
    right = np.array([600, 500, 800, 700], float)
    rows = []
    for k, reader in enumerate(('R1', 'R2', 'R3')):
        rows.append(('img', reader, 'Nodule/Mass', *(left + 3 * k)))
        rows.append(('img', reader, 'Nodule/Mass', *(right - 2 * k)))
    fused, stats = fuse_radiologist_boxes(_rows(rows), {'img': (1000, 1000)})
    assert len(fused) == 2
    order = np.argsort(fused['x0'].to_numpy())
    np.testing.assert_allclose(
        _xy(fused)[order], [left + 3, right - 2], atol=1e-3)
    assert fused['n_boxes'].tolist() == [3, 3]
    assert stats['boxes_in']['Nodule/Mass'] == 6
    assert stats['boxes_out']['Nodule/Mass'] == 2
    assert stats['merged_boxes']['Nodule/Mass'] == 2


def test_agreeing_readers_fuse_to_the_mean_per_class():
    rows = [
        ('a', 'R1', 'Cardiomegaly', 100, 200, 500, 400),
        ('a', 'R2', 'Cardiomegaly', 110, 210, 520, 420),
        ('a', 'R3', 'Cardiomegaly', 90, 190, 480, 380),
        # same place, other class: never fused with Cardiomegaly
        ('a', 'R1', 'Pleural effusion', 100, 200, 500, 400),
    ]
    fused, stats = fuse_radiologist_boxes(_rows(rows), {'a': (1000, 800)})
    cardio = fused[fused['class_name'] == 'Cardiomegaly']
    np.testing.assert_allclose(_xy(cardio), [[100, 200, 500, 400]],
                               atol=1e-3)
    assert cardio['n_boxes'].tolist() == [3]
    effusion = fused[fused['class_name'] == 'Pleural effusion']
    np.testing.assert_array_equal(_xy(effusion), [[100, 200, 500, 400]])
    assert stats['wbf_images'] == 1


def test_threshold_is_strict_and_non_overlapping_pass_through():
    # IoU of these two boxes is exactly 1/3
    rows = [('a', 'R1', 'Infiltration', 0, 0, 20, 10),
            ('a', 'R2', 'Infiltration', 10, 0, 30, 10)]
    fused, stats = fuse_radiologist_boxes(_rows(rows), {'a': (100, 100)},
                                          iou_thr=1 / 3)
    np.testing.assert_array_equal(_xy(fused), [[0, 0, 20, 10],
                                               [10, 0, 30, 10]])
    assert stats['wbf_images'] == 0
    fused, _ = fuse_radiologist_boxes(_rows(rows), {'a': (100, 100)},
                                      iou_thr=0.3)
    np.testing.assert_allclose(_xy(fused), [[5, 0, 25, 10]], atol=1e-4)


def test_nih_boxes_pass_through_unchanged():
    rows = [('n', 'nih', 'Nodule/Mass', 10.25, 20.5, 110.125, 120.75),
            ('n', 'nih', 'Nodule/Mass', 12.0, 22.0, 112.0, 122.0)]
    fused, stats = fuse_radiologist_boxes(
        _rows(rows, source='nih'), {'n': (1024, 1024)})
    np.testing.assert_array_equal(
        _xy(fused), [[10.25, 20.5, 110.125, 120.75], [12, 22, 112, 122]])
    assert stats['wbf_images'] == 0


def test_empty_input():
    fused, stats = fuse_radiologist_boxes(_rows([]), {})
    assert fused.empty and stats['wbf_images'] == 0


def _naive_wbf(boxes, sizes, iou_thr):
    """Reference: one WBF call per (image, class) on every group."""
    out = []
    for (image_id, name), group in boxes.groupby(['image_id', 'class_name']):
        w, h = sizes[image_id]
        scale = np.array([w, h, w, h], float)
        group = group.sort_values(['reader', 'x0', 'y0', 'x1', 'y1'])
        lists = [g for _, g in group.groupby('reader', sort=True)]
        fused, _, _ = weighted_boxes_fusion(
            [(_xy(g) / scale).tolist() for g in lists],
            [[1.0] * len(g) for g in lists], [[0] * len(g) for g in lists],
            iou_thr=iou_thr)
        for box in fused * scale:
            out.append((image_id, name, *box))
    return pd.DataFrame(
        out, columns=['image_id', 'class_name', 'x0', 'y0', 'x1', 'y1'])


def _canonical(frame):
    """Sort by (image, class, box rounded to 0.01 px); keep exact values."""
    frame = frame[['image_id', 'class_name', 'x0', 'y0', 'x1', 'y1']].copy()
    keys = frame.assign(**{c: frame[c].round(2)
                           for c in ('x0', 'y0', 'x1', 'y1')})
    order = keys.sort_values(list(keys.columns)).index
    return frame.loc[order].reset_index(drop=True)


@pytest.mark.parametrize('iou_thr', [0.4, 0.55])
def test_fast_fusion_equals_naive_wbf_on_real_table(real_tables, real_sizes,
                                                    iou_thr):
    table = real_tables['tables']['vinbig']
    boxes, _ = apply_label_map(table[table['label'] != 'No finding'],
                               default_label_maps()['vinbig'])
    # the 300 images with the most boxes: the hardest clusters
    busiest = boxes['image_id'].value_counts().index[:300]
    boxes = boxes[boxes['image_id'].isin(busiest)]
    fused, stats = fuse_radiologist_boxes(boxes, real_sizes, iou_thr=iou_thr)
    expected = _naive_wbf(boxes, real_sizes, iou_thr)
    assert len(fused) == len(expected)
    got, want = _canonical(fused), _canonical(expected)
    pd.testing.assert_frame_equal(
        got[['image_id', 'class_name']], want[['image_id', 'class_name']])
    np.testing.assert_allclose(_xy(got), _xy(want), atol=1e-3)
    assert sum(stats['boxes_in'].values()) == len(boxes)


def test_fusion_is_scale_invariant(real_tables, real_sizes):
    table = real_tables['tables']['vinbig']
    boxes, _ = apply_label_map(table[table['label'] != 'No finding'],
                               default_label_maps()['vinbig'])
    boxes = boxes[boxes['image_id'].isin(boxes['image_id'].unique()[:200])]
    fused, _ = fuse_radiologist_boxes(boxes, real_sizes)
    doubled = {k: (2 * w, 2 * h) for k, (w, h) in real_sizes.items()}
    fused2, _ = fuse_radiologist_boxes(boxes, doubled)
    np.testing.assert_allclose(_xy(fused2), _xy(fused), rtol=1e-5)
