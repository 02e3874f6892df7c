# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""NIH image labels: ``Data_Entry``'s findings OR the boxes, on the real
tables."""
from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pytest

from cxr_mmdet.classes import CXR_CLASSES, NIH_LABEL_MAP
from cxr_mmdet.data_prep import read_nih_data_entry
from cxr_mmdet.data_prep.summary import labels_without_boxes
from .conftest import read_csv_rows


def _independent_labels(nih_table, nih_data_entry) -> tuple[dict, dict]:
    """image id -> classes from Data_Entry, and from the box list, read
    with the csv module."""
    entry = read_csv_rows(nih_data_entry)
    header = entry[0]
    name_col = header.index('Image Index')
    label_col = header.index('Finding Labels')
    findings = defaultdict(set)
    for row in entry[1:]:
        for label in row[label_col].split('|'):
            if label in NIH_LABEL_MAP:
                findings[row[name_col][:-4]].add(NIH_LABEL_MAP[label])
    boxes = defaultdict(set)
    for row in read_csv_rows(nih_table)[1:]:
        if row[1] in NIH_LABEL_MAP:
            boxes[row[0][:-4]].add(NIH_LABEL_MAP[row[1]])
    return findings, boxes


def test_real_nih_labels_are_findings_or_boxes(real_prepared, nih_table,
                                               nih_data_entry):
    findings, boxes = _independent_labels(nih_table, nih_data_entry)
    images = real_prepared.images
    nih = images[images['source'] == 'nih']
    assert len(nih) > 500
    for record in nih.to_dict('records'):
        got = {c for c in CXR_CLASSES if record[c]}
        want = findings[record['image_id']] | boxes[record['image_id']]
        assert got == want, record['image_id']
    # the pairs labelled without a box: computed independently
    kept_boxes = real_prepared.boxes
    boxed = kept_boxes.groupby('image_id')['class_name'].agg(set)
    expected = defaultdict(int)
    images_without = 0
    for image_id in nih['image_id']:
        missing = (findings[image_id] | boxes[image_id]) - boxed.get(
            image_id, set())
        images_without += bool(missing)
        for c in missing:
            expected[c] += 1
    boxless = labels_without_boxes(nih, kept_boxes)
    assert {c: int(boxless[c].sum()) for c in CXR_CLASSES} == {
        c: expected[c] for c in CXR_CLASSES}
    assert int(boxless.to_numpy().any(axis=1).sum()) == images_without
    # the figures the issue measured on these tables
    assert images_without == 243
    assert expected['Infiltration'] == 102
    assert expected['Pulmonary fibrosis'] == 14
    splits = real_prepared.report['splits']
    assert sum(s['labels_without_boxes']['Pleural thickening']
               for s in splits.values()) == expected['Pleural thickening']


def test_read_nih_data_entry(tmp_path):
    path = tmp_path / 'entry.csv'
    path.write_text('Image Index,Finding Labels,Follow-up #,Patient ID\n'
                    '00000001_000.png,Cardiomegaly|Effusion,0,1\n'
                    '00000002_000.png,No Finding,0,2\n'
                    '00000003_000.png, Fibrosis ,0,00003\n')
    patients, pairs = read_nih_data_entry(path)
    assert patients == {'00000001_000.png': '1', '00000002_000.png': '2',
                        '00000003_000.png': '3'}
    assert sorted(map(tuple, pairs.to_numpy().tolist())) == [
        ('00000001_000', 'Cardiomegaly'), ('00000001_000', 'Effusion'),
        ('00000003_000', 'Fibrosis')]
    (tmp_path / 'bad.csv').write_text('Image Index,Patient ID\nx.png,1\n')
    with pytest.raises(ValueError, match=r"bad.csv.*'Finding Labels'"):
        read_nih_data_entry(tmp_path / 'bad.csv')


def test_real_split_sizes(real_prepared, capsys):
    """Print the split sizes on the real tables (for the report)."""
    report = real_prepared.report['splits']
    table = pd.DataFrame({
        s: {k: report[s][k]
            for k in ('images', 'positive_images', 'negative_images',
                      'groups', 'boxes')}
        for s in report
    })
    with capsys.disabled():
        print('\n' + table.to_string())
    assert all(report[s]['positive_images'] > 0 for s in report)
