# Copyright (c) cxr_mmdet contributors. All rights reserved.
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from cxr_mmdet.data_prep.tables import (drop_duplicate_rows, is_safe_image_id,
                                        nih_patient_from_name,
                                        read_nih_boxes, read_nih_patient_ids,
                                        read_vinbig_rows, reject_unsafe_ids)

from .conftest import read_csv_rows


def test_nih_real_table_malformed_header(nih_table):
    rows = read_csv_rows(nih_table)
    # The header really is malformed: 'Bbox [x,y,w,h]' split over 4 cells
    # plus 3 empty names; data rows have 6 cells.
    assert rows[0][:3] == ['Image Index', 'Finding Label', 'Bbox [x']
    data = [r for r in rows[1:] if r]
    boxes, dropped = read_nih_boxes(nih_table)
    assert len(boxes) == len(data) == 984
    assert dropped == Counter()
    assert Counter(boxes['label']) == Counter(r[1] for r in data)
    first = data[0]
    x, y, w, h = map(float, first[2:6])
    row = boxes.iloc[0]
    assert row['image_id'] == first[0][:-len('.png')]
    assert row['file_name'] == first[0]
    np.testing.assert_allclose(
        row[['x0', 'y0', 'x1', 'y1']].to_numpy(float), [x, y, x + w, y + h])
    assert set(boxes['source']) == {'nih'} and set(boxes['reader']) == {'nih'}


def test_nih_patients_from_data_entry(nih_table, nih_data_entry):
    patients = read_nih_patient_ids(nih_data_entry)
    entry = read_csv_rows(nih_data_entry)
    header = entry[0]
    i_name, i_pid = header.index('Image Index'), header.index('Patient ID')
    expected = {r[i_name]: str(int(r[i_pid])) for r in entry[1:] if r}
    assert patients == expected
    boxes, _ = read_nih_boxes(nih_table, patients)
    for name, group in zip(boxes['file_name'], boxes['group']):
        assert group == 'nih:' + expected[name]
        # the file name prefix agrees with Data_Entry for the NIH release
        assert group == 'nih:' + nih_patient_from_name(name)


def test_nih_missing_columns_names_file_and_columns(tmp_path):
    path = tmp_path / 'bbox.csv'
    path.write_text('Image Index,Label,x,y,w,h\na.png,Mass,1,2,3,4\n')
    with pytest.raises(ValueError, match=r'bbox\.csv.*Finding Label'):
        read_nih_boxes(path)
    path.write_text('Image Index,Finding Label,x,y\na.png,Mass,1,2\n')
    with pytest.raises(ValueError, match=r'bbox\.csv.*Bbox'):
        read_nih_boxes(path)
    entry = tmp_path / 'entry.csv'
    entry.write_text('Image Index,Patient\na.png,1\n')
    with pytest.raises(ValueError, match=r'entry\.csv.*Patient ID'):
        read_nih_patient_ids(entry)


def test_nih_bad_rows_counted_by_reason(tmp_path):
    path = tmp_path / 'bbox.csv'
    path.write_text('Image Index,Finding Label,Bbox [x,y,w,h],,,\n'
                    '00000001_000.png,Mass,1,2,3,4\n'
                    '00000001_001.png,Mass,abc,2,3,4\n'
                    '00000002_000.png,Mass,,2,3,4\n'
                    '00000003_000.png,Mass,1,inf,3,4\n'
                    ',Mass,1,2,3,4\n'
                    '00000004_000.png,,1,2,3,4\n'
                    '00000005_000.png,Nodule,1.5,2.5,-3,4\n')
    boxes, dropped = read_nih_boxes(path)
    assert dropped == Counter(
        non_numeric_coordinates=1,
        missing_coordinates=1,
        non_finite_coordinates=1,
        missing_image_id=1,
        missing_label=1)
    # the negative width survives reading; check_box_geometry drops it
    assert boxes['image_id'].tolist() == ['00000001_000', '00000005_000']
    assert boxes['group'].tolist() == ['nih:1', 'nih:5']


def test_vinbig_real_table(vinbig_table):
    rows = read_csv_rows(vinbig_table)
    header, data = rows[0], [r for r in rows[1:] if r]
    boxes, dropped = read_vinbig_rows(vinbig_table)
    assert len(boxes) == len(data) == 67914
    assert dropped == Counter()
    i_label = header.index('class_name')
    assert Counter(boxes['label']) == Counter(r[i_label] for r in data)
    no_finding = boxes['label'] == 'No finding'
    assert no_finding.sum() == 31818
    assert boxes.loc[no_finding, ['x0', 'y0', 'x1', 'y1']].isna().all().all()
    assert boxes.loc[~no_finding, ['x0', 'x1']].notna().all().all()
    assert (boxes['group'] == 'vinbig:' + boxes['image_id']).all()


def test_vinbig_missing_columns_and_bad_rows(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text('image_id,class_name,rad_id,x_min,y_min,x_max\n')
    with pytest.raises(ValueError, match=r"train\.csv.*'y_max'"):
        read_vinbig_rows(path)
    path.write_text('image_id,class_name,class_id,rad_id,x_min,y_min,x_max,'
                    'y_max\n'
                    'a,Cardiomegaly,3,R1,1,2,30,40\n'
                    'a,No finding,14,R2,,,,\n'
                    'b,Cardiomegaly,3,R1,,2,30,40\n'
                    'c,Cardiomegaly,3,R1,x,2,30,40\n'
                    'd,Cardiomegaly,3,,1,2,30,40\n')
    boxes, dropped = read_vinbig_rows(path)
    assert boxes['image_id'].tolist() == ['a', 'a']
    assert dropped == Counter(
        missing_coordinates=1, non_numeric_coordinates=1, missing_reader=1)


def test_unsafe_ids_rejected(tmp_path):
    assert is_safe_image_id('9a5094b2563a1ef3ff50dc5c7ff71345')
    for bad in ('../x', '/etc/passwd', 'a/b', '..', '.hidden', 'a\\b', '',
                'a..b', 'C:x'):
        assert not is_safe_image_id(bad), bad
    path = tmp_path / 'train.csv'
    path.write_text('image_id,class_name,rad_id,x_min,y_min,x_max,y_max\n'
                    'ok,Cardiomegaly,R1,1,2,30,40\n'
                    '../evil,Cardiomegaly,R1,1,2,30,40\n'
                    '/abs/path,Cardiomegaly,R1,1,2,30,40\n')
    boxes, _ = read_vinbig_rows(path)
    kept, rejected = reject_unsafe_ids(boxes)
    assert kept['image_id'].tolist() == ['ok']
    assert rejected == ['../evil', '/abs/path']


def test_duplicate_rows_counted(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text('image_id,class_name,rad_id,x_min,y_min,x_max,y_max\n'
                    'a,Cardiomegaly,R1,1,2,30,40\n'
                    'a,Cardiomegaly,R1,1.0,2,30,40\n'
                    'a,Cardiomegaly,R2,1,2,30,40\n'
                    'b,No finding,R1,,,,\n'
                    'b,No finding,R1,,,,\n')
    boxes, _ = read_vinbig_rows(path)
    kept, n = drop_duplicate_rows(boxes)
    # same reader, label and box (1 == 1.0): a copy; another reader: kept
    assert n == 2
    assert kept['reader'].tolist() == ['R1', 'R2', 'R1']


def test_real_tables_have_no_duplicates(real_tables):
    for table in real_tables['tables'].values():
        assert drop_duplicate_rows(table)[1] == 0
