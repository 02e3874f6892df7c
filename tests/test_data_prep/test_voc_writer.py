# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import defusedxml.ElementTree as SafeET
import pandas as pd
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.data_prep.voc_writer import (write_image_sets,
                                            write_labels_csv,
                                            write_voc_annotation)


def test_annotation_content_and_convention(tmp_path):
    path = tmp_path / 'a.xml'
    write_voc_annotation(
        path,
        'a.png',
        300,
        200, [('Nodule/Mass', 0.0, 10.25, 1.0, 20.125),
              ('Cardiomegaly', 100.5, 50.0, 250.0, 150.75)],
        source='vinbig')
    root = SafeET.parse(path).getroot()
    assert root.findtext('filename') == 'a.png'
    assert root.findtext('size/width') == '300'
    assert root.findtext('size/height') == '200'
    assert root.findtext('size/depth') == '1'
    assert root.findtext('source/database') == 'VinBigData'
    objects = root.findall('object')
    names = [o.findtext('name') for o in objects]
    assert names == ['Nodule/Mass', 'Cardiomegaly']
    assert all(o.findtext('difficult') == '0' for o in objects)
    box = [float(objects[0].findtext(f'bndbox/{t}'))
           for t in ('xmin', 'ymin', 'xmax', 'ymax')]
    # 1-based: every corner + 1; the first-pixel box (0, 0, 1) -> (1, 2)
    assert box == [1.0, 11.25, 2.0, 21.125]
    assert objects[1].findtext('bndbox/xmin') == '101.5000'


def test_unknown_class_refused(tmp_path):
    with pytest.raises(ValueError, match='Atelectasis'):
        write_voc_annotation(tmp_path / 'a.xml', 'a.png', 10, 10,
                             [('Atelectasis', 0, 0, 1, 1)])


def test_image_sets_and_labels_csv(tmp_path):
    write_image_sets(tmp_path / 'Main', {'trainval': ['b', 'a'], 'test': []})
    assert (tmp_path / 'Main' / 'trainval.txt').read_text() == 'a\nb\n'
    assert (tmp_path / 'Main' / 'test.txt').read_text() == ''
    images = pd.DataFrame({
        'image_id': ['x', 'y'],
        'split': ['test', 'trainval'],
        'source': ['nih', 'vinbig'],
        'group': ['nih:1', 'vinbig:y'],
        **{c: [1, 0] for c in CXR_CLASSES}
    })
    write_labels_csv(tmp_path / 'labels.csv', images)
    table = pd.read_csv(tmp_path / 'labels.csv')
    assert list(table.columns) == ['image_id', 'split', 'source',
                                   *CXR_CLASSES]
    assert table['image_id'].tolist() == ['x', 'y']
    assert table['Nodule/Mass'].tolist() == [1, 0]
