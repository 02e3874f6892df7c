# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

import json
from collections import Counter

import pytest

from cxr_mmdet.classes import CXR_CLASSES, NIH_LABEL_MAP
from cxr_mmdet.data_prep.label_map import (apply_label_map,
                                           default_label_maps,
                                           load_label_maps)

from .conftest import read_csv_rows


def test_nih_infiltrate_boxes_all_kept(real_tables, nih_table):
    """The replaced system filtered for 'Infiltration' and lost all 123."""
    labels = Counter(r[1] for r in read_csv_rows(nih_table)[1:] if r)
    assert labels['Infiltrate'] == 123 and labels['Infiltration'] == 0
    mapped, unmapped = apply_label_map(real_tables['tables']['nih'],
                                       default_label_maps()['nih'])
    assert (mapped['class_name'] == 'Infiltration').sum() == 123
    assert 'Infiltrate' not in unmapped
    expected = Counter()
    for label, n in labels.items():
        if label in NIH_LABEL_MAP:
            expected[NIH_LABEL_MAP[label]] += n
    assert Counter(mapped['class_name']) == expected
    assert expected['Nodule/Mass'] == 85 + 79
    assert unmapped == Counter(
        {k: v
         for k, v in labels.items() if k not in NIH_LABEL_MAP})
    assert len(mapped) + sum(unmapped.values()) == 984


def test_vinbig_map_keeps_six_classes(real_tables, vinbig_table):
    rows = read_csv_rows(vinbig_table)
    i_label = rows[0].index('class_name')
    labels = Counter(r[i_label] for r in rows[1:] if r)
    table = real_tables['tables']['vinbig']
    boxes = table[table['label'] != 'No finding']
    mapped, unmapped = apply_label_map(boxes, default_label_maps()['vinbig'])
    assert Counter(mapped['class_name']) == {c: labels[c] for c in CXR_CLASSES}
    assert set(unmapped) == set(labels) - set(CXR_CLASSES) - {'No finding'}
    assert unmapped['Aortic enlargement'] == 7162


def test_label_map_file_overrides_one_source(tmp_path):
    path = tmp_path / 'map.json'
    path.write_text(json.dumps({'nih': {'Atelectasis': 'Infiltration'}}))
    maps = load_label_maps(path)
    assert maps['nih'] == {'Atelectasis': 'Infiltration'}
    assert maps['vinbig'] == default_label_maps()['vinbig']


@pytest.mark.parametrize('content, match', [
    ('{"nih": {"Mass": "Tumour"}}', 'Tumour'),
    ('{"chexpert": {}}', 'chexpert'),
    ('[1, 2]', 'object'),
    ('{"nih": ', 'JSON'),
])
def test_label_map_file_errors(tmp_path, content, match):
    path = tmp_path / 'map.json'
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_label_maps(path)
