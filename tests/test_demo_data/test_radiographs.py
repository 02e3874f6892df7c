# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Rendering of synthetic radiographs and lesions (pure numpy)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.demo_data.radiographs import (LESION_STYLES, Lesion,
                                             merge_reader_boxes, paint_lesions,
                                             render_anatomy, render_radiograph,
                                             to_dicom_pixels, to_uint8)

H, W = 160, 128
BOX = (30.0, 40.0, 90.0, 100.0)


def box_mask(box, shape=(H, W)):
    mask = np.zeros(shape, dtype=bool)
    x1, y1, x2, y2 = box
    mask[int(np.floor(y1)):int(np.ceil(y2)),
         int(np.floor(x1)):int(np.ceil(x2))] = True
    return mask


def test_every_class_has_its_own_style():
    assert set(LESION_STYLES) == set(CXR_CLASSES)
    assert len(set(LESION_STYLES.values())) == len(CXR_CLASSES)


def test_anatomy_has_dark_lungs_bright_mediastinum():
    img = render_anatomy(H, W, np.random.default_rng(0))
    assert img.shape == (H, W) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() <= 1.0
    lung = img[int(0.45 * H), int(0.3 * W)]
    spine = img[int(0.45 * H), int(0.5 * W)]
    air = img[2, 2]
    assert lung + 0.15 < spine
    assert air < lung


@pytest.mark.parametrize('name', CXR_CLASSES)
def test_lesion_changes_only_its_box_and_strongly(name):
    clean = render_radiograph(H, W, [], np.random.default_rng(1))
    sick = render_radiograph(H, W, [Lesion(name, BOX)],
                             np.random.default_rng(1))
    diff = np.abs(sick - clean)
    inside = box_mask(BOX)
    assert diff[~inside].max() == 0.0
    # a large change: at least 0.1 of the full grey range on average
    assert diff[inside].mean() > 0.1, (name, diff[inside].mean())


def test_six_appearances_differ_pairwise():
    base = render_anatomy(H, W, np.random.default_rng(2))
    inside = box_mask(BOX)
    looks = {
        name: paint_lesions(base, [Lesion(name, BOX)])[inside]
        for name in CXR_CLASSES
    }
    for a, b in itertools.combinations(CXR_CLASSES, 2):
        assert np.abs(looks[a] - looks[b]).mean() > 0.1, (a, b)


def test_small_lesion_stays_visible_on_a_large_one():
    big = Lesion('Cardiomegaly', (10.0, 10.0, 120.0, 150.0))
    small = Lesion('Nodule/Mass', (50.0, 60.0, 70.0, 80.0))
    base = render_anatomy(H, W, np.random.default_rng(3))
    only_big = paint_lesions(base, [big])
    both = paint_lesions(base, [small, big])  # order given: small first
    assert np.abs(both - only_big)[box_mask(small.box)].mean() > 0.1


@pytest.mark.parametrize('first,second', [
    ('Pulmonary fibrosis', 'Infiltration'),
    ('Infiltration', 'Pleural effusion'),
    ('Pleural effusion', 'Pulmonary fibrosis'),
])
def test_lesions_sharing_a_box_both_stay_visible(first, second):
    """Readers often give two classes one box: neither may vanish."""
    base = render_anatomy(H, W, np.random.default_rng(4))
    inside = box_mask(BOX)
    a, b = Lesion(first, BOX), Lesion(second, BOX)
    both = paint_lesions(base, [a, b])
    for alone in (paint_lesions(base, [a]), paint_lesions(base, [b])):
        assert np.abs(both - alone)[inside].mean() > 0.1
    assert np.array_equal(both[~inside], base[~inside])


def test_tiny_and_edge_boxes_paint_at_least_a_pixel():
    for box in [(5.2, 5.3, 5.6, 5.9), (-10.0, -10.0, 3.0, 3.0),
                (W - 2.0, H - 2.0, W + 5.0, H + 5.0)]:
        base = np.full((H, W), 0.3, dtype=np.float32)
        out = paint_lesions(base, [Lesion('Cardiomegaly', box)])
        assert (out != base).any(), box


def test_bad_lesions_raise():
    base = np.zeros((H, W), dtype=np.float32)
    with pytest.raises(ValueError, match='Atelectasis'):
        paint_lesions(base, [Lesion('Atelectasis', BOX)])
    with pytest.raises(ValueError, match='x2 > x1'):
        paint_lesions(base, [Lesion('Cardiomegaly', (50, 50, 40, 60))])


def test_same_rng_same_pixels():
    lesions = [Lesion(n, BOX) for n in CXR_CLASSES[:2]]
    a = render_radiograph(H, W, lesions, np.random.default_rng(7))
    b = render_radiograph(H, W, lesions, np.random.default_rng(7))
    c = render_radiograph(H, W, lesions, np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert to_uint8(a).dtype == np.uint8


@pytest.mark.parametrize('photometric', ['MONOCHROME1', 'MONOCHROME2'])
def test_dicom_pixels_window_and_inversion(photometric):
    img = render_radiograph(H, W, [Lesion('Cardiomegaly', BOX)],
                            np.random.default_rng(4))
    stored, center, width = to_dicom_pixels(img, photometric)
    assert stored.dtype == np.uint16 and stored.max() < 2**12
    # the DICOM LINEAR VOI function, output range [0, 1]
    shown = (stored.astype(float) - (center - 0.5)) / (width - 1) + 0.5
    if photometric == 'MONOCHROME1':
        shown = 1.0 - shown
        # inverted storage: the bright lesion is stored low
        assert stored[box_mask(BOX)].mean() < stored.mean()
    np.testing.assert_allclose(shown, img, atol=1.0 / width)


def test_dicom_pixels_reject_bad_photometric():
    with pytest.raises(ValueError, match='RGB'):
        to_dicom_pixels(np.zeros((4, 4)), 'RGB')


def test_merge_reader_boxes_groups_overlapping_readers():
    readers = [(100, 100, 200, 200), (110, 105, 205, 210),
               (400, 400, 450, 450), (95, 98, 190, 195)]
    merged = merge_reader_boxes(readers, iou_thr=0.4)
    assert len(merged) == 2
    np.testing.assert_allclose(
        merged[0], np.mean([readers[0], readers[1], readers[3]], axis=0))
    assert merged[1] == (400.0, 400.0, 450.0, 450.0)
    # a high threshold keeps them apart
    assert len(merge_reader_boxes(readers, iou_thr=0.95)) == 4
    assert merge_reader_boxes([]) == []
