# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Every bad input, tried one at a time, gets its documented outcome.

Two tables:

- ``PREP_CASES`` run data preparation (:func:`prepare_dataset`, the body
  of ``tools/dataset_converters/prepare_data.py``) on a small, clean NIH +
  VinBig raw set with one fault added. The outcome is either an error
  naming the file, row or field, or the fault is skipped and counted in ``summary.json``. In both
  outcomes nothing else is lost: every other image comes out with exactly
  the annotation the clean run wrote.
- ``DATASET_CASES`` put one fault into a prepared VOC tree and read it with
  :class:`CXRVOCDataset` and its loading transform (what training and
  evaluation do): an error naming the file, or skip-and-count with the
  file named in the log.
"""
from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.data_prep import PrepareConfig, prepare_dataset
from cxr_mmdet.data_prep.image_io import read_image_uint8
from cxr_mmdet.testing import write_voc_tree
from cxr_mmdet.testing import write_dicom, write_png, write_vinbig_csv

NIH_SIZE = (64, 48)  # width, height
VIN_SIZE = (50, 40)
#: NIH rows: file, label, x, y, w, h (all fine)
NIH_ROWS = [
    ('00000001_000.png', 'Cardiomegaly', 10.0, 12.0, 30.0, 20.0),
    ('00000002_000.png', 'Effusion', 40.0, 20.0, 20.0, 20.0),
    ('00000003_000.png', 'Mass', 20.0, 10.0, 16.0, 16.0),
    ('00000004_000.png', 'Infiltrate', 2.0, 3.0, 10.0, 8.0),
]
#: VinBig rows: image, class, reader, x_min, y_min, x_max, y_max
VIN_ROWS = [
    ('v1', 'Pleural thickening', 'R1', 10, 10, 20, 30),
    ('v2', 'Pulmonary fibrosis', 'R1', 5, 5, 25, 25),
    ('v3', 'Nodule/Mass', 'R2', 5, 5, 15, 15),
    ('v4', 'Cardiomegaly', 'R3', 10, 10, 40, 30),
    ('v5', 'No finding', 'R1', '', '', '', ''),
]


def write_raw(root: Path) -> None:
    """The clean raw set: tables, NIH PNGs, VinBig PNGs and a DICOM."""
    rng = np.random.default_rng(0)
    lines = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    lines += [','.join(map(str, r)) for r in NIH_ROWS]
    (root / 'nih').mkdir(parents=True)
    (root / 'BBox_List_2017.csv').write_text('\n'.join(lines) + '\n')
    for name, *_ in NIH_ROWS:
        write_png(root / 'nih' / name,
                  rng.integers(0, 255, NIH_SIZE[::-1], dtype=np.uint8))
    write_vinbig_csv(root / 'train.csv', VIN_ROWS)
    for name in ('v1', 'v2', 'v3', 'v5'):
        write_png(root / 'vinbig' / f'{name}.png',
                  rng.integers(0, 255, VIN_SIZE[::-1], dtype=np.uint8))
    write_dicom(root / 'vinbig' / 'v4.dicom',
                rng.integers(0, 4000, VIN_SIZE[::-1]).astype(np.uint16))


def prepare(raw: Path, out: Path, **options) -> dict:
    settings = dict(
        out=str(out),
        nih_csv=str(raw / 'BBox_List_2017.csv'),
        nih_images=str(raw / 'nih'),
        vinbig_csv=str(raw / 'train.csv'),
        vinbig_images=str(raw / 'vinbig'),
        size=32,
        test_fraction=0.34,
        val_fraction=0.34,
        train_negative_fraction=0.5,
        progress=False)
    settings.update(options)
    return prepare_dataset(PrepareConfig(**settings))


def _counted(dropped: dict) -> dict:
    """``dropped_rows`` without the sources that dropped nothing."""
    return {source: rows for source, rows in dropped.items() if rows}


def annotations(out: Path) -> dict[str, str]:
    """image id -> the XML text written for it."""
    folder = out / 'VOCdevkit' / 'VOC2007' / 'Annotations'
    return {p.stem: p.read_text() for p in sorted(folder.glob('*.xml'))}


@pytest.fixture(scope='module')
def clean(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('clean')
    write_raw(root / 'raw')
    summary = prepare(root / 'raw', root / 'out')
    xml = annotations(root / 'out')
    # the clean set loses nothing
    assert sorted(xml) == [
        '00000001_000', '00000002_000', '00000003_000', '00000004_000', 'v1',
        'v2', 'v3', 'v4', 'v5'
    ]
    assert _counted(summary['dropped_rows']) == {}
    assert summary['unreadable_images'] == {}
    assert summary['missing_images'] == []
    return dict(root=root, summary=summary, xml=xml)


# --------------------------------------------------------------- faults


def _append_nih(row: str) -> Callable[[Path], None]:

    def mutate(raw: Path) -> None:
        with open(raw / 'BBox_List_2017.csv', 'a') as f:
            f.write(row + '\n')

    return mutate


def _append_vin(row: list) -> Callable[[Path], None]:

    def mutate(raw: Path) -> None:
        table = pd.read_csv(
            raw / 'train.csv', dtype=str, keep_default_na=False)
        table.loc[len(table)] = row
        table.to_csv(raw / 'train.csv', index=False)

    return mutate


def _replace_file(name: str, content: Callable[[bytes], bytes]):

    def mutate(raw: Path) -> None:
        path = raw / name
        path.write_bytes(content(path.read_bytes()))

    return mutate


def _dicom_without_pixels(raw: Path) -> None:
    import pydicom
    path = raw / 'vinbig' / 'v4.dicom'
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path, enforce_file_format=True)


def _drop_vin_column(column: str):

    def mutate(raw: Path) -> None:
        table = pd.read_csv(
            raw / 'train.csv', dtype=str, keep_default_na=False)
        table.drop(columns=[column]).to_csv(raw / 'train.csv', index=False)

    return mutate


@dataclass
class PrepCase:
    """One fault for data preparation and its documented outcome."""
    mutate: Callable[[Path], None]
    #: expected summary['dropped_rows'] (exactly: nothing else dropped)
    dropped: dict = field(default_factory=dict)
    #: expected summary['unreadable_images'] keys
    unreadable: tuple = ()
    #: image ids that may not come out (the faulty ones)
    lost: tuple = ()
    #: expected other summary entries
    summary: dict = field(default_factory=dict)
    #: (exception type, regex) when the outcome is an error
    error: tuple | None = None
    options: dict = field(default_factory=dict)


NIH_1 = '00000001_000'
# yapf: disable
PREP_CASES = {
    'truncated PNG': PrepCase(
        _replace_file('vinbig/v2.png', lambda b: b[:len(b) // 2]),
        unreadable=('v2', ), lost=('v2', ),
        summary={'images_lost_after_split': 1}),
    # an image whose header cannot be read has no size: its box rows are
    # counted as missing_image (see fit_boxes_to_images)
    'zero-byte file': PrepCase(
        _replace_file('vinbig/v3.png', lambda b: b''),
        dropped={'vinbig': {'missing_image': 1}},
        unreadable=('v3', ), lost=('v3', )),
    'text file named .png': PrepCase(
        _replace_file(f'nih/{NIH_1}.png', lambda b: b'not an image\n'),
        dropped={'nih': {'missing_image': 1}},
        unreadable=(NIH_1, ), lost=(NIH_1, )),
    'DICOM without pixel data': PrepCase(
        _dicom_without_pixels, unreadable=('v4', ), lost=('v4', ),
        summary={'images_lost_after_split': 1}),
    'inverted box (negative width)': PrepCase(
        _append_nih(f'{NIH_1}.png,Cardiomegaly,30,10,-12,20'),
        dropped={'nih': {'inverted_box': 1}}),
    'zero-area box': PrepCase(
        _append_vin(['v1', 'Pleural thickening', 'R2', '10', '10', '10',
                     '30']),
        dropped={'vinbig': {'zero_area_box': 1}}),
    'NaN coordinates': PrepCase(
        _append_nih(f'{NIH_1}.png,Effusion,nan,10,5,5'),
        dropped={'nih': {'missing_coordinates': 1}}),
    'infinite coordinates': PrepCase(
        _append_vin(['v2', 'Pulmonary fibrosis', 'R2', '5', '5', 'inf',
                     '25']),
        dropped={'vinbig': {'non_finite_coordinates': 1}}),
    'box outside the image': PrepCase(
        _append_nih(f'{NIH_1}.png,Effusion,500,10,20,20'),
        dropped={'nih': {'outside_image': 1}}),
    'non-numeric coordinates': PrepCase(
        _append_vin(['v3', 'Nodule/Mass', 'R1', 'abc', '5', '15', '15']),
        dropped={'vinbig': {'non_numeric_coordinates': 1}}),
    'duplicate row': PrepCase(
        _append_vin(['v1', 'Pleural thickening', 'R1', '10', '10', '20',
                     '30']),
        dropped={'vinbig': {'duplicate_row': 1}}),
    'unknown label': PrepCase(
        _append_nih(f'{NIH_1}.png,Hernia,5,5,10,10'),
        dropped={'nih': {'unmapped_label': 1}},
        summary={'unmapped_labels': {'nih': {'Hernia': 1}}}),
    'id with ../': PrepCase(
        _append_nih('../00000002_000.png,Effusion,5,5,10,10'),
        dropped={'nih': {'unsafe_image_id': 1}},
        summary={'rejected_image_ids': ['../00000002_000.png']}),
    'absolute path id': PrepCase(
        _append_vin(['/etc/passwd', 'Cardiomegaly', 'R1', '1', '1', '5',
                     '5']),
        dropped={'vinbig': {'unsafe_image_id': 1}},
        summary={'rejected_image_ids': ['/etc/passwd']}),
    'unsafe id with --strict': PrepCase(
        _append_nih('../00000002_000.png,Effusion,5,5,10,10'),
        error=(ValueError, r'outside the output.*\.\./00000002_000'),
        options=dict(strict=True)),
    'CSV missing a column': PrepCase(
        _drop_vin_column('rad_id'),
        error=(ValueError, r"train\.csv: missing columns \['rad_id'\]")),
    'CSV not a table': PrepCase(
        _replace_file('BBox_List_2017.csv', lambda b: b'\x00\xff' * 40),
        error=(ValueError, r'BBox_List_2017\.csv')),
    'empty test split (--test-fraction 0)': PrepCase(
        lambda raw: None,
        options=dict(test_fraction=0.0),
        error=(ValueError,
               r'--test-fraction must be in \(0.0, 1.0\), got 0.0')),
}
# yapf: enable


def _subset(expected, actual, path=''):
    """Assert that ``expected`` (nested dicts) is contained in ``actual``."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f'{path}/{key} missing'
            _subset(value, actual[key], f'{path}/{key}')
    else:
        assert actual == expected, f'{path}: {actual!r} != {expected!r}'


@pytest.mark.parametrize('name', list(PREP_CASES))
def test_data_preparation_fault(name, clean, tmp_path):
    case = PREP_CASES[name]
    raw = tmp_path / 'raw'
    shutil.copytree(clean['root'] / 'raw', raw)
    case.mutate(raw)
    out = tmp_path / 'out'
    if case.error is not None:
        kind, pattern = case.error
        with pytest.raises(kind, match=pattern):
            prepare(raw, out, **case.options)
        assert not out.exists()  # nothing half-written
        assert sorted(p.name for p in tmp_path.iterdir()) == ['raw']
        return
    summary = prepare(raw, out, **case.options)
    assert _counted(summary['dropped_rows']) == case.dropped
    assert sorted(summary['unreadable_images']) == sorted(case.unreadable)
    for image_id in case.unreadable:  # the reason is recorded
        assert summary['unreadable_images'][image_id]
    _subset(case.summary, summary)
    # written to summary.json as well
    written = json.loads((out / 'summary.json').read_text())
    assert _counted(written['dropped_rows']) == case.dropped
    assert sorted(written['unreadable_images']) == sorted(case.unreadable)
    # nothing else lost: every other image has exactly its clean annotation
    xml = annotations(out)
    expected = {k: v for k, v in clean['xml'].items() if k not in case.lost}
    assert xml == expected
    sets = out / 'VOCdevkit' / 'VOC2007' / 'ImageSets' / 'Main'
    listed = sorted((sets / 'trainval.txt').read_text().split() +
                    (sets / 'test.txt').read_text().split())
    assert listed == sorted(expected)


# ------------------------------------------------------ prepared VOC tree


def _voc(root: str) -> Path:
    return Path(root) / 'VOC2007'


def _first(truth: dict, split: str, positive: bool = True) -> str:
    return next(k for k, v in truth.items()
                if v['split'] == split and bool(len(v['labels'])) == positive)


def _edit_xml(data_root, img_id, edit):
    path = _voc(data_root) / 'Annotations' / f'{img_id}.xml'
    path.write_text(edit(path.read_text()))


def _corrupt_image(content: Callable[[bytes], bytes]):

    def mutate(data_root, truth, split):
        img_id = _first(truth, split)
        path = _voc(data_root) / 'JPEGImages' / truth[img_id]['filename']
        path.write_bytes(content(path.read_bytes()))
        return img_id

    return mutate


def _image_set(lines: str):

    def mutate(data_root, truth, split):
        path = _voc(data_root) / 'ImageSets' / 'Main' / f'{split}.txt'
        path.write_text(lines)
        return None

    return mutate


def _xml_edit(edit, image_too=None):

    def mutate(data_root, truth, split):
        img_id = _first(truth, split)
        _edit_xml(data_root, img_id, edit)
        if image_too is not None:
            path = _voc(data_root) / 'JPEGImages' / truth[img_id]['filename']
            path.write_bytes(image_too)
        return img_id

    return mutate


def _without_size(text: str) -> str:
    start, end = text.index('<size>'), text.index('</size>')
    return text[:start] + text[end + len('</size>'):]


def _first_box(text: str, box: str) -> str:
    start = text.index('<bndbox>')
    end = text.index('</bndbox>') + len('</bndbox>')
    return text[:start] + box + text[end:]


def _box(x1, y1, x2, y2):
    return (f'<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>'
            f'<ymax>{y2}</ymax></bndbox>')


@dataclass
class DatasetCase:
    """One fault in a prepared VOC tree and its documented outcome."""
    mutate: Callable
    #: ``'skip'`` (train: another sample, file named in the log; test:
    #: error naming the file), ``'error'`` or ``'ok'``
    outcome: str
    match: str = ''


# yapf: disable
DATASET_CASES = {
    'truncated PNG': DatasetCase(
        _corrupt_image(lambda b: b[:len(b) // 2]), 'skip'),
    'zero-byte file': DatasetCase(_corrupt_image(lambda b: b''), 'skip'),
    'text file named .png': DatasetCase(
        _corrupt_image(lambda b: b'not an image\n'), 'skip'),
    'XML without <size>': DatasetCase(_xml_edit(_without_size), 'ok'),
    'XML without <size>, unreadable image': DatasetCase(
        _xml_edit(_without_size, image_too=b''), 'error',
        r'no <size>, and the size of .* cannot be read'),
    'XML <size> without <width>': DatasetCase(
        _xml_edit(lambda t: t.replace('<width>96</width>', '')), 'error',
        r'missing <width>'),
    'inverted box': DatasetCase(
        _xml_edit(lambda t: _first_box(t, _box(50, 5, 20, 40))), 'error',
        'empty or inverted'),
    'zero-area box': DatasetCase(
        _xml_edit(lambda t: _first_box(t, _box(20, 5, 20, 40))), 'error',
        'empty or inverted'),
    'NaN box': DatasetCase(
        _xml_edit(lambda t: _first_box(t, _box('NaN', 5, 20, 40))), 'error',
        'not finite'),
    'box outside the image': DatasetCase(
        _xml_edit(lambda t: _first_box(t, _box(50, 5, 400, 40))), 'error',
        r'outside the image \(96 x 96\)'),
    'image-set id with ../': DatasetCase(
        _image_set('img_0000\n../../etc/passwd\n'), 'error',
        'relative path'),
    'image-set absolute id': DatasetCase(
        _image_set('/etc/passwd\n'), 'error', 'relative path'),
    'empty split': DatasetCase(_image_set('\n'), 'error', 'yields no image'),
}
# yapf: enable


def _dataset(data_root, split, test_mode, pipeline=()):
    from cxr_mmdet.datasets import CXRVOCDataset
    return CXRVOCDataset(
        data_root=data_root,
        ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        filter_cfg=None if test_mode else dict(filter_empty_gt=True),
        test_mode=test_mode,
        pipeline=list(pipeline))


LOADING = [
    dict(type='CXRLoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs'),
]


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.parametrize('name', list(DATASET_CASES))
@pytest.mark.parametrize('split', ['trainval', 'test'])
def test_dataset_fault(name, split, tmp_path):
    from mmengine.logging import MMLogger
    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.datasets.cxr_voc import AnnotationError
    case = DATASET_CASES[name]
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(
        data_root, num_trainval=4, num_test=3, size=96, num_negatives=1)
    img_id = case.mutate(data_root, truth, split)
    test_mode = split == 'test'
    if case.outcome == 'error':
        with pytest.raises(AnnotationError, match=case.match) as info:
            _dataset(data_root, split, test_mode, LOADING)
        named = f'{img_id}.xml' if img_id else f'{split}.txt'
        assert named in str(info.value)
        return
    ds = _dataset(data_root, split, test_mode, LOADING)
    ids = [ds.get_data_info(i)['img_id'] for i in range(len(ds))]
    assert img_id in ids  # the fault does not drop the annotation
    idx = ids.index(img_id)
    path = ds.get_data_info(idx)['img_path']
    if case.outcome == 'ok':
        info = ds.get_data_info(idx)
        assert (info['width'], info['height']) == (96, 96)
        assert len(info['instances']) == len(truth[img_id]['labels'])
        assert ds[idx]['data_samples'].img_path == path
        return
    # 'skip': training goes on with another sample and names the file;
    # an evaluation cannot replace a sample, so it stops naming the file
    if test_mode:
        with pytest.raises(RuntimeError, match='cannot load') as info:
            ds[idx]
        assert path in str(info.value)
        return
    logger = MMLogger.get_current_instance()
    records = _Records()
    logger.addHandler(records)
    try:
        sample = ds[idx]
    finally:
        logger.removeHandler(records)
    assert sample['data_samples'].img_path != path
    skipped = [m for m in records.messages if 'skipped unreadable' in m]
    # (the random replacement may hit the same file again: one log each)
    assert skipped and all(repr(path) in m for m in skipped)
    assert ds.pipeline.transforms[0].num_skipped == len(skipped)


def test_dicom_without_pixel_data_is_named_by_the_image_reader(tmp_path):
    """tools/infer.py reads inputs with read_image_uint8."""
    import pydicom
    path = write_dicom(tmp_path / 'scan.dcm',
                       np.full((8, 8), 100, dtype=np.uint16))
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(ValueError, match='scan.dcm: cannot read image'):
        read_image_uint8(path)


def test_class_without_training_examples_gets_a_finite_weight(tmp_path):
    """Counts of 0 must not divide by zero, in the head or the sampler."""
    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.datasets.samplers.cxr_balanced_sampler import (
        CXRBalancedSampler)
    from cxr_mmdet.models.dense_heads.class_weighted_ssd_head import (
        count_instances_per_class, inverse_frequency_weights)
    data_root = str(tmp_path / 'VOCdevkit')
    write_voc_tree(data_root, num_trainval=6, num_test=1, size=64)
    # keep only Cardiomegaly boxes: five classes have no training example
    ann = _voc(data_root) / 'Annotations'
    for path in ann.glob('*.xml'):
        text = path.read_text()
        for name in CXR_CLASSES[1:]:
            text = text.replace(f'<name>{name}</name>',
                                '<name>Cardiomegaly</name>')
        path.write_text(text)
    ds = _dataset(data_root, 'trainval', False)
    counts = count_instances_per_class(ds, len(CXR_CLASSES))
    assert counts[0] > 0 and counts[1:] == [0] * 5
    with pytest.warns(UserWarning, match='no instance'):
        weights = inverse_frequency_weights(counts)
    assert all(np.isfinite(weights)) and all(w > 0 for w in weights)
    assert np.mean(weights) == pytest.approx(1.0)
    with np.errstate(all='raise'):  # no divide-by-zero inside numpy
        sampler = CXRBalancedSampler(ds, seed=0, rank=0, world_size=1)
    assert np.isfinite(sampler.probs).all()
    assert sampler.probs.sum() == pytest.approx(1.0)
    assert len(list(sampler)) == len(ds)
    # no class at all: weights fall back to 1, not NaN
    with pytest.warns(UserWarning, match='No class has any instance'):
        assert inverse_frequency_weights([0] * 6) == [1.0] * 6


def test_unknown_class_in_xml_is_counted_and_logged(tmp_path):
    """With ``unknown_class='warn'`` the object is counted, the image and
    its known objects stay (the error default is tested in
    tests/test_datasets)."""
    import cxr_mmdet  # noqa: F401
    from cxr_mmdet.datasets import CXRVOCDataset
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(data_root, num_trainval=3, num_test=2, size=64)
    img_id = _first(truth, 'test')
    _edit_xml(
        data_root, img_id, lambda t: t.replace(
            '</annotation>', '<object><name>Hernia</name>' + _box(2, 2, 9, 9) +
            '</object></annotation>'))
    ds = CXRVOCDataset(
        data_root=data_root,
        ann_file='VOC2007/ImageSets/Main/test.txt',
        data_prefix=dict(sub_data_root='VOC2007/'),
        test_mode=True,
        unknown_class='warn',
        pipeline=[])
    assert ds.unknown_objects == {'Hernia': 1}
    assert len(ds) == 2
    info = next(
        ds.get_data_info(i) for i in range(len(ds))
        if ds.get_data_info(i)['img_id'] == img_id)
    assert len(info['instances']) == len(truth[img_id]['labels'])
