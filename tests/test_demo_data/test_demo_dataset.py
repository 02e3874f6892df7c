# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""A small demo run written to disk, checked against the real tables."""
from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES, NIH_LABEL_MAP, VINBIG_LABEL_MAP
from cxr_mmdet.demo_data import MANIFEST_NAME, make_demo_dataset
from cxr_mmdet.demo_data.demo_dataset import image_rng
from cxr_mmdet.demo_data.sample_rows import NIH_BBOX_HEADER, vinbig_frame
from cxr_mmdet.demo_data.radiographs import render_radiograph, to_uint8
from cxr_mmdet.demo_data.xrv_tables import NIH_DATA_ENTRY_TABLE, find_xrv_table

CSVS = ('nih/BBox_List_2017.csv', 'nih/Data_Entry_2017.csv',
        'vinbig/train.csv')


def read_nih_out(root):
    table = pd.read_csv(root / 'nih' / 'BBox_List_2017.csv', header=None,
                        skiprows=1)
    table.columns = ['image_index', 'finding_label', 'x', 'y', 'w', 'h']
    return table


def read_pixels(path):
    """Displayed grey levels in [0, 1] of a written PNG or DICOM."""
    if path.suffix == '.png':
        return np.asarray(Image.open(path), dtype=float) / 255.0
    ds = pydicom.dcmread(path)
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    # the DICOM LINEAR VOI function (PS3.3 C.11.2.1.2), output [0, 1]
    shown = np.clip((ds.pixel_array - (center - 0.5)) / (width - 1) + 0.5,
                    0.0, 1.0)
    if ds.PhotometricInterpretation == 'MONOCHROME1':
        shown = 1.0 - shown
    return shown


def test_layout_and_every_image_has_rows(small_demo):
    root, manifest = small_demo
    for rel in CSVS + (MANIFEST_NAME, ):
        assert (root / rel).is_file(), rel
    assert (root / 'nih' / 'BBox_List_2017.csv').read_text().startswith(
        NIH_BBOX_HEADER + '\n')
    records = manifest['images']
    assert len(records) == manifest['options']['num_images']
    files = {p.relative_to(root).as_posix()
             for p in root.glob('*/images/*')}
    assert files == {r['file'] for r in records}
    nih = read_nih_out(root)
    vin = pd.read_csv(root / 'vinbig' / 'train.csv')
    for r in records:
        ids = nih['image_index'] if r['source'] == 'nih' else vin['image_id']
        assert (ids == r['image_id']).any(), r['file']
        width, height = r['size']
        assert max(width, height) == manifest['options']['long_side']
        if r['file'].endswith('.png'):
            assert Image.open(root / r['file']).size == (width, height)


def test_nih_rows_trace_back_to_the_real_table(small_demo, source_tables):
    root, manifest = small_demo
    real_nih, _ = source_tables
    scale = {r['image_id']: r['scale'] for r in manifest['images']
             if r['source'] == 'nih'}
    out = read_nih_out(root)
    assert len(out) > 0
    for row in out.itertuples(index=False):
        sx, sy = scale[row.image_index]
        src = real_nih[(real_nih['image_index'] == row.image_index)
                       & (real_nih['finding_label'] == row.finding_label)]
        err = (np.abs(src['x'] - row.x / sx) + np.abs(src['y'] - row.y / sy)
               + np.abs(src['w'] - row.w / sx)
               + np.abs(src['h'] - row.h / sy))
        assert err.min() < 1e-2, row
    # all rows of each chosen image, nothing more
    chosen = real_nih[real_nih['image_index'].isin(scale)]
    assert len(chosen) == len(out)


def test_nih_data_entry_lines_are_verbatim(small_demo):
    """Real Data_Entry lines, except that Finding Labels names the
    findings the synthetic image draws (its box-list labels)."""
    root, manifest = small_demo
    written = (root / 'nih' / 'Data_Entry_2017.csv').read_text().splitlines()
    with gzip.open(find_xrv_table(NIH_DATA_ENTRY_TABLE), 'rt') as f:
        real = f.read().splitlines()
    assert written[0] == real[0]
    real_rest = {line.split(',', 1)[0]: line.split(',', 2)[2]
                 for line in real[1:]}
    bbox = pd.read_csv(root / 'nih' / 'BBox_List_2017.csv')
    boxed = bbox.groupby('Image Index')['Finding Label'].agg(
        lambda x: {'Infiltration' if v == 'Infiltrate' else v for v in x})
    for line in written[1:]:
        name, labels, rest = line.split(',', 2)
        assert rest == real_rest[name]
        assert set(labels.split('|')) == boxed[name]
    nih_ids = {r['image_id'] for r in manifest['images']
               if r['source'] == 'nih'}
    entry = pd.read_csv(io.StringIO('\n'.join(written)))
    assert set(entry['Image Index']) == nih_ids
    assert {'Image Index', 'Finding Labels', 'Follow-up #',
            'Patient ID'} <= set(entry.columns)


def test_vinbig_rows_trace_back_with_all_readers(small_demo, source_tables):
    root, manifest = small_demo
    _, real_vin = source_tables
    out = pd.read_csv(root / 'vinbig' / 'train.csv',
                      dtype={'image_id': str})
    recs = {r['image_id']: r for r in manifest['images']
            if r['source'] == 'vinbig'}
    assert set(out['image_id']) == set(recs)
    coords = ['x_min', 'y_min', 'x_max', 'y_max']
    for image_id, rec in recs.items():
        src = real_vin[real_vin['image_id'] == image_id]
        got = out[out['image_id'] == image_id]
        assert len(got) == len(src) and got['rad_id'].nunique() == 3
        assert tuple(rec['frame']) == vinbig_frame(src)
        sx, sy = rec['scale']
        back = got[coords].to_numpy() / np.array([sx, sy, sx, sy])
        # same order as the real table
        assert got['class_name'].tolist() == src['class_name'].tolist()
        assert got['rad_id'].tolist() == src['rad_id'].tolist()
        np.testing.assert_allclose(back, src[coords].to_numpy(dtype=float),
                                   atol=1e-2)


def test_manifest_counts_match_the_csvs(small_demo):
    root, manifest = small_demo
    counts = manifest['counts']
    nih = read_nih_out(root)
    vin = pd.read_csv(root / 'vinbig' / 'train.csv')
    nih_mapped = nih['finding_label'].map(NIH_LABEL_MAP)
    vin_mapped = vin['class_name'].map(VINBIG_LABEL_MAP)
    for name in CXR_CLASSES:
        c = counts['per_class'][name]
        assert c['nih_rows'] == (nih_mapped == name).sum()
        assert c['vinbig_rows'] == (vin_mapped == name).sum()
    unmapped = sum(counts['unmapped_rows']['nih'].values()) + sum(
        counts['unmapped_rows']['vinbig'].values())
    assert unmapped == nih_mapped.isna().sum() + vin_mapped.isna().sum()
    num_images = manifest['options']['num_images']
    assert counts['negatives'] == round(num_images * 0.1)


def test_dicom_files_readable_with_both_photometrics(small_demo):
    root, manifest = small_demo
    dicoms = [r for r in manifest['images'] if r['file'].endswith('.dicom')]
    assert len(dicoms) == manifest['options']['num_dicom']
    seen = set()
    for r in dicoms:
        ds = pydicom.dcmread(root / r['file'])
        assert ds.PhotometricInterpretation == r['photometric']
        assert (ds.BitsAllocated, ds.BitsStored) == (16, 12)
        assert ds.pixel_array.shape == (r['size'][1], r['size'][0])
        assert 'WindowCenter' in ds and 'WindowWidth' in ds
        seen.add(ds.PhotometricInterpretation)
        shown = read_pixels(root / r['file'])
        height, width = shown.shape
        # displayed as a radiograph: lungs darker than the mediastinum
        assert (shown[int(0.45 * height), int(0.3 * width)] + 0.1 <
                np.median(shown[int(0.3 * height):int(0.5 * height),
                                int(0.49 * width):int(0.51 * width)]))
    assert seen == {'MONOCHROME1', 'MONOCHROME2'}


def test_lesions_visible_inside_boxes_only(small_demo):
    root, manifest = small_demo
    checked = 0
    for r in manifest['images']:
        width, height = r['size']
        pixels = read_pixels(root / r['file'])
        clean = render_radiograph(
            height, width, [],
            image_rng(manifest['options']['seed'], r['source'], r['image_id']))
        if r['file'].endswith('.png'):
            clean = to_uint8(clean) / 255.0
        diff = np.abs(pixels - clean)
        inside = np.zeros(diff.shape, dtype=bool)
        for les in r['lesions']:
            x1, y1, x2, y2 = les['box']
            box = (slice(int(y1), int(np.ceil(y2))),
                   slice(int(x1), int(np.ceil(x2))))
            # strong on average over the box (a disc fills ~30% of it)
            assert diff[box].mean() > 0.04, (r['file'], les)
            # one pixel of slack: the manifest rounds boxes to 4 decimals
            inside[max(int(y1) - 1, 0):int(np.ceil(y2)) + 1,
                   max(int(x1) - 1, 0):int(np.ceil(x2)) + 1] = True
            checked += 1
        assert diff[~inside].max() < 1e-3, r['file']
    assert checked > 0


def test_same_seed_same_bytes_and_pixels(small_demo, small_demo_again):
    (a, ma), (b, mb) = small_demo, small_demo_again
    for rel in CSVS + (MANIFEST_NAME, ):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert ma == mb
    for r in ma['images']:
        assert np.array_equal(read_pixels(a / r['file']),
                              read_pixels(b / r['file'])), r['file']


def test_other_seed_other_rows(small_demo, tmp_path):
    root, manifest = small_demo
    make_demo_dataset(tmp_path, num_images=6,
                      seed=manifest['options']['seed'] + 1,
                      long_side=128, num_dicom=0)
    assert ((tmp_path / 'vinbig' / 'train.csv').read_bytes() !=
            (root / 'vinbig' / 'train.csv').read_bytes())


def test_existing_output_needs_overwrite(tmp_path):
    make_demo_dataset(tmp_path, num_images=3, seed=0, long_side=64,
                      num_dicom=0)
    with pytest.raises(ValueError, match='overwrite'):
        make_demo_dataset(tmp_path, num_images=3, seed=0, long_side=64)
    stray = tmp_path / 'nih' / 'images' / 'stale.png'
    stray.write_bytes(b'')
    make_demo_dataset(tmp_path, num_images=3, seed=1, long_side=64,
                      num_dicom=0, overwrite=True)
    assert not stray.exists()
