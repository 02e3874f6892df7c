# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Drawing real NIH/VinBig rows for the demo, on the shipped tables."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from cxr_mmdet.classes import (CXR_CLASSES, NIH_LABEL_MAP, VINBIG_LABEL_MAP,
                               VINBIG_NO_FINDING)
from cxr_mmdet.demo_data.sample_rows import (NIH_BBOX_HEADER,
                                             VINBIG_BASE_FRAME, format_coord,
                                             nih_bbox_lines,
                                             read_nih_bbox_list,
                                             sample_demo_images,
                                             scale_nih_rows, scale_vinbig_rows,
                                             vinbig_frame, vinbig_lines)


def test_real_nih_box_list_is_read_whole(source_tables):
    nih, _ = source_tables
    assert len(nih) == 984
    counts = nih['finding_label'].value_counts()
    assert counts['Atelectasis'] == 180 and counts['Infiltrate'] == 123
    assert nih[['x', 'y', 'w', 'h']].notna().all().all()


def test_box_without_coordinates_raises(tmp_path):
    path = tmp_path / 'BBox_List_2017.csv'
    path.write_text(NIH_BBOX_HEADER +
                    '\na.png,Mass,1,2,3,4\nb.png,Mass,1,,,\n')
    with pytest.raises(ValueError, match='data row 2'):
        read_nih_bbox_list(path)


def image_class_counts(images):
    return {c: sum(c in im.classes for im in images) for c in CXR_CLASSES}


def test_draw_is_balanced_over_the_six_classes(source_tables):
    nih, vinbig = source_tables
    images = sample_demo_images(nih, vinbig, 200, seed=0)
    counts = image_class_counts(images)
    assert min(counts.values()) >= 30, counts
    assert max(counts.values()) <= 1.25 * min(counts.values()), counts
    # NIH has four of the classes; it is drawn for them
    nih_classes = {c for im in images if im.source == 'nih'
                   for c in im.classes}
    assert nih_classes == {
        'Cardiomegaly', 'Pleural effusion', 'Nodule/Mass', 'Infiltration'
    }


def test_drawn_images_really_hold_their_classes(source_tables):
    nih, vinbig = source_tables
    images = sample_demo_images(nih, vinbig, 60, seed=1)
    for im in images:
        if im.source == 'nih':
            labels = nih.loc[nih['image_index'] == im.image_id,
                             'finding_label'].map(NIH_LABEL_MAP)
        else:
            labels = vinbig.loc[vinbig['image_id'] == im.image_id,
                                'class_name'].map(VINBIG_LABEL_MAP)
        assert set(labels.dropna()) == set(im.classes), im
        if im.drawn_for is not None:
            assert im.drawn_for in im.classes
    keys = [(im.source, im.image_id) for im in images]
    assert len(set(keys)) == len(keys)


def test_negatives_are_all_no_finding_with_three_readers(source_tables):
    nih, vinbig = source_tables
    images = sample_demo_images(nih, vinbig, 50, seed=2,
                                negative_fraction=0.1)
    negatives = [im for im in images if im.drawn_for is None]
    assert len(negatives) == 5
    for im in negatives:
        rows = vinbig[vinbig['image_id'] == im.image_id]
        assert (rows['class_name'] == VINBIG_NO_FINDING).all()
        assert rows['rad_id'].nunique() == 3
        assert im.source == 'vinbig' and im.classes == ()


def test_draw_is_deterministic_per_seed(source_tables):
    nih, vinbig = source_tables
    a = sample_demo_images(nih, vinbig, 40, seed=5)
    b = sample_demo_images(nih, vinbig, 40, seed=5)
    c = sample_demo_images(nih, vinbig, 40, seed=6)
    assert a == b
    assert [im.image_id for im in a] != [im.image_id for im in c]


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_images=0), 'num_images'),
    (dict(num_images=10, negative_fraction=1.0), 'negative_fraction'),
    (dict(num_images=10, nih_share=1.5), 'nih_share'),
])
def test_bad_options_raise(source_tables, kwargs, match):
    nih, vinbig = source_tables
    with pytest.raises(ValueError, match=match):
        sample_demo_images(nih, vinbig, seed=0, **kwargs)


def test_vinbig_frame_grows_only_past_the_base():
    inside = pd.DataFrame(dict(x_max=[1500.0, float('nan')],
                               y_max=[2000.0, float('nan')]))
    assert vinbig_frame(inside) == VINBIG_BASE_FRAME
    past = pd.DataFrame(dict(x_max=[3131.0], y_max=[1000.0]))
    width, height = vinbig_frame(past)
    assert width % 16 == 0 and width >= 3131 * 1.02
    assert height == VINBIG_BASE_FRAME[1]
    no_boxes = pd.DataFrame(dict(x_max=[float('nan')],
                                 y_max=[float('nan')]))
    assert vinbig_frame(no_boxes) == VINBIG_BASE_FRAME


def test_written_lines_parse_back_to_scaled_rows():
    nih = pd.DataFrame(dict(image_index=['a.png'], finding_label=['Mass'],
                            x=[100.0], y=[200.0], w=[30.0], h=[40.0]))
    lines = nih_bbox_lines(scale_nih_rows(nih, 0.5, 0.25))
    assert lines[0] == NIH_BBOX_HEADER
    assert lines[1] == 'a.png,Mass,50.0,50.0,15.0,10.0'
    vin = pd.DataFrame(dict(image_id=['v', 'v'],
                            class_name=['Cardiomegaly', 'No finding'],
                            class_id=[3, 14], rad_id=['R8', 'R9'],
                            x_min=[10.0, None], y_min=[20.0, None],
                            x_max=[30.0, None], y_max=[40.0, None]))
    text = '\n'.join(vinbig_lines(scale_vinbig_rows(vin, 0.1, 0.2)))
    back = pd.read_csv(io.StringIO(text))
    assert list(back.columns) == list(vin.columns)
    assert back.loc[0, ['x_min', 'y_min', 'x_max', 'y_max']].tolist() == [
        1.0, 4.0, 3.0, 8.0
    ]
    assert back.loc[1, ['x_min', 'y_min', 'x_max', 'y_max']].isna().all()
    assert format_coord(1 / 3) == '0.3333'


def test_min_box_size_keeps_only_images_with_learnable_lesions(source_tables):
    import numpy as np
    from cxr_mmdet.demo_data.sample_rows import small_box_images
    nih, vinbig = source_tables
    images = sample_demo_images(nih, vinbig, 120, seed=0, min_box_size=20)
    counts = image_class_counts(images)
    assert max(counts.values()) <= 1.25 * min(counts.values()), counts
    checked = 0
    for im in images:
        if im.source == 'nih':
            rows = nih[(nih['image_index'] == im.image_id)
                       & nih['finding_label'].map(NIH_LABEL_MAP).notna()]
            size = np.sqrt(rows['w'] * rows['h']) * 300 / 1024
        else:
            rows = vinbig[(vinbig['image_id'] == im.image_id)
                          & vinbig['class_name'].map(
                              VINBIG_LABEL_MAP).notna()]
            width, height = vinbig_frame(rows)
            size = np.sqrt((rows['x_max'] - rows['x_min']) * 300 / width *
                           (rows['y_max'] - rows['y_min']) * 300 / height)
        assert (size >= 20).all(), (im, size.min())
        checked += len(rows)
    assert checked > 100
    # the filter removes real images: Nodule/Mass boxes are mostly small
    small = small_box_images(nih, vinbig, 20)
    assert len(small) > 1000
    assert small_box_images(nih, vinbig, 0) == set()
