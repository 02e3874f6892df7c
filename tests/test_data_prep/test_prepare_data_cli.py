# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/dataset_converters/prepare_data.py end to end on tiny synthetic
images.

The test writes NIH- and VinBig-like tables (with the real NIH header quirk)
and images (PNG and a MONOCHROME1 DICOM), runs the CLI's ``main`` and checks
the VOC tree against boxes computed here from what it wrote.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES

from cxr_mmdet.testing import write_dicom, write_png, write_vinbig_csv

TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters' /
        'prepare_data.py')
NIH_W, NIH_H = 64, 48
OUT = 32


def load_tool():
    spec = importlib.util.spec_from_file_location('prepare_data_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nih_rows():
    # (Image Index, Finding Label, x, y, w, h)
    return [
        ('00000001_000.png', 'Cardiomegaly', 10.5, 12.25, 30.0, 20.0),
        ('00000001_000.png', 'Infiltrate', 2.0, 3.0, 10.0, 8.0),
        ('00000001_001.png', 'Mass', 20.0, 10.0, 16.0, 16.0),
        ('00000001_001.png', 'Nodule', 22.0, 12.0, 14.0, 14.0),
        ('00000002_000.png', 'Effusion', 40.0, 20.0, 20.0, 20.0),
        ('00000002_000.png', 'Atelectasis', 5.0, 5.0, 10.0, 10.0),
        ('00000003_000.png', 'Atelectasis', 5.0, 5.0, 10.0, 10.0),
        ('00000004_000.png', 'Effusion', 5.0, 5.0, 10.0, 10.0),  # no file
        ('../evil.png', 'Effusion', 5.0, 5.0, 10.0, 10.0),
        ('00000005_000.png', 'Effusion', 30.0, 30.0, 34.5, 18.3),  # clip
        ('00000005_000.png', 'Cardiomegaly', 30.0, 30.0, 60.0, 10.0),  # out
        ('00000006_000.png', 'Nodule', 'abc', 1.0, 2.0, 3.0),
    ]


# VinBig: v1 is a DICOM 100 x 80 (w x h); the others PNG 50 x 40.
V1_W, V1_H = 100, 80
V_W, V_H = 50, 40


def _vinbig_rows():
    rows = []
    for k, rad in enumerate(('R1', 'R2', 'R3')):
        rows.append(('v1', 'Cardiomegaly', rad, 20 + k, 30, 60 + k, 60))
    # two separate lesions of one class, each seen by two readers
    rows += [('v1', 'Nodule/Mass', 'R1', 5, 5, 15, 15),
             ('v1', 'Nodule/Mass', 'R2', 6, 6, 16, 16),
             ('v1', 'Nodule/Mass', 'R1', 80, 60, 95, 75),
             ('v1', 'Nodule/Mass', 'R3', 80, 60, 96, 76)]
    rows += [('v2', 'Pleural thickening', 'R1', 10, 10, 20, 30),
             ('v2', 'No finding', 'R2', '', '', '', ''),
             ('v2', 'No finding', 'R3', '', '', '', '')]
    for image in ('v3', 'v4', 'v5'):  # v5 has no file
        rows += [(image, 'No finding', r, '', '', '', '')
                 for r in ('R1', 'R2', 'R3')]
    rows += [('v6', 'Aortic enlargement', 'R1', 1, 1, 10, 10),
             ('v7', 'Infiltration', 'R1', 1, 1, 10, 10),  # corrupt file
             ('v8', 'Pulmonary fibrosis', 'R1', 5, 5, 25, 25),
             ('v8', 'Pulmonary fibrosis', 'R1', 5, 5, 25, 25)]  # duplicate
    return rows


@pytest.fixture
def raw_data(tmp_path):
    root = tmp_path / 'raw'
    nih_csv = root / 'BBox_List_2017.csv'
    nih_csv.parent.mkdir(parents=True)
    lines = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    lines += [','.join(map(str, r)) for r in _nih_rows()]
    nih_csv.write_text('\n'.join(lines) + '\n')
    entry = root / 'Data_Entry_2017.csv'
    entry.write_text('Image Index,Finding Labels,Patient ID\n'
                     '00000001_000.png,Cardiomegaly,1\n'
                     '00000001_001.png,Mass,1\n'
                     '00000002_000.png,Effusion|Fibrosis|Hernia,2\n'
                     '00000005_000.png,Effusion,1\n')
    rng = np.random.default_rng(0)
    for name in ('00000001_000', '00000001_001', '00000002_000',
                 '00000003_000', '00000005_000', '00000006_000'):
        write_png(root / 'nih' / 'images_001' / 'images' / f'{name}.png',
                  rng.integers(0, 255, (NIH_H, NIH_W), dtype=np.uint8))
    vin_csv = root / 'train.csv'
    write_vinbig_csv(vin_csv, _vinbig_rows())
    # MONOCHROME1: low raw values are bright; the left half is the lesion
    raw = np.full((V1_H, V1_W), 3000, dtype=np.uint16)
    raw[:, :V1_W // 2] = 100
    write_dicom(root / 'vinbig' / 'v1.dicom', raw, 'MONOCHROME1',
                window=(1500, 3000))
    for name in ('v2', 'v3', 'v4', 'v6', 'v8'):
        write_png(root / 'vinbig' / f'{name}.png',
                  rng.integers(0, 255, (V_H, V_W), dtype=np.uint8))
    (root / 'vinbig' / 'v7.png').write_bytes(b'\x89PNG broken')
    return dict(
        root=root,
        nih_csv=nih_csv,
        entry=entry,
        nih_images=root / 'nih',
        vin_csv=vin_csv,
        vin_images=root / 'vinbig')


def _argv(raw, out, *extra):
    return [
        '--nih-csv', str(raw['nih_csv']), '--nih-data-entry',
        str(raw['entry']), '--nih-images', str(raw['nih_images']),
        '--vinbig-csv', str(raw['vin_csv']), '--vinbig-images',
        str(raw['vin_images']), '--out', str(out), '--size', str(OUT),
        '--test-fraction', '0.3', '--val-fraction', '0.3',
        '--train-negative-fraction', '0.5', '--no-progress', *extra
    ]


def _objects(xml_path):
    """Parse back boxes in 0-based pixel edges (VOC corners minus 1)."""
    root = SafeET.parse(xml_path).getroot()
    objects = []
    for obj in root.findall('object'):
        box = [float(obj.findtext(f'bndbox/{t}')) - 1
               for t in ('xmin', 'ymin', 'xmax', 'ymax')]
        objects.append((obj.findtext('name'), box))
    return root, sorted(objects, key=lambda o: (o[0], o[1]))


def _scaled(box, w, h):
    x0, y0, x1, y1 = box
    return [x0 * OUT / w, y0 * OUT / h, x1 * OUT / w, y1 * OUT / h]


def _expected_boxes():
    """Boxes of each written image, computed here from the raw rows."""
    def nih(x, y, w, h):
        return _scaled([x, y, x + w, y + h], NIH_W, NIH_H)

    return {
        '00000001_000': [('Cardiomegaly', nih(10.5, 12.25, 30, 20)),
                         ('Infiltration', nih(2, 3, 10, 8))],
        '00000001_001': [('Nodule/Mass', nih(20, 10, 16, 16)),
                         ('Nodule/Mass', nih(22, 12, 14, 14))],
        '00000002_000': [('Pleural effusion', nih(40, 20, 20, 20))],
        # 30 + 34.5 = 64.5 > 64 by 0.5 px (< 1% of 64): clipped to 64
        # and 30 + 18.3 = 48.3 > 48 by 0.3 px (< 1% of 48): clipped to 48
        '00000005_000': [('Pleural effusion',
                          _scaled([30, 30, 64, 48], NIH_W, NIH_H))],
        'v1': [('Cardiomegaly', _scaled([21, 30, 61, 60], V1_W, V1_H)),
               ('Nodule/Mass', _scaled([5.5, 5.5, 15.5, 15.5], V1_W,
                                       V1_H)),
               ('Nodule/Mass', _scaled([80, 60, 95.5, 75.5], V1_W, V1_H))],
        'v2': [('Pleural thickening', _scaled([10, 10, 20, 30], V_W, V_H))],
        'v8': [('Pulmonary fibrosis', _scaled([5, 5, 25, 25], V_W, V_H))],
        'v3': [],
        'v4': [],
    }


def test_end_to_end(raw_data, tmp_path):
    tool = load_tool()
    out = tmp_path / 'dataset'
    summary = tool.main(tool.parse_args(_argv(raw_data, out)))
    voc = out / 'VOCdevkit' / 'VOC2007'
    expected = _expected_boxes()

    # every kept image: PNG of the output size, XML naming it, exact boxes
    xml_ids = sorted(p.stem for p in (voc / 'Annotations').glob('*.xml'))
    assert xml_ids == sorted(expected)
    for image_id, boxes in expected.items():
        root, objects = _objects(voc / 'Annotations' / f'{image_id}.xml')
        assert root.findtext('filename') == f'{image_id}.png'
        assert root.findtext('size/width') == str(OUT)
        assert root.findtext('size/height') == str(OUT)
        assert [o.findtext('difficult') for o in root.findall('object')
                ] == ['0'] * len(boxes)
        want = sorted(boxes, key=lambda o: (o[0], o[1]))
        assert [o[0] for o in objects] == [o[0] for o in want], image_id
        for (_, got), (_, exp) in zip(objects, want):
            np.testing.assert_allclose(got, exp, atol=1e-3, err_msg=image_id)
        with Image.open(voc / 'JPEGImages' / f'{image_id}.png') as img:
            assert img.size == (OUT, OUT) and img.mode == 'L'

    # MONOCHROME1 inverted: the low-valued left half is bright
    pixels = np.asarray(Image.open(voc / 'JPEGImages' / 'v1.png'), float)
    assert pixels[:, :OUT // 2 - 1].mean() > 200
    assert pixels[:, OUT // 2 + 1:].mean() < 50

    # splits: every image in exactly one; NIH patient 1 (incl. the
    # Data_Entry-mapped 00000005_000) in one split
    sets = {
        s: (voc / 'ImageSets' / 'Main' / f'{s}.txt').read_text().split()
        for s in ('train', 'val', 'test', 'trainval')
    }
    assert sorted(sets.pop('trainval')) == sorted(sets['train'] +
                                                  sets['val'])
    assert all(sets.values()), sets
    listed = [i for ids in sets.values() for i in ids]
    assert sorted(listed) == sorted(expected)  # each image in one split
    patient1 = {'00000001_000', '00000001_001', '00000005_000'}
    assert any(patient1 <= set(ids) for ids in sets.values())
    # image labels: the boxes OR Data_Entry's mapped findings (Fibrosis of
    # 00000002_000 has no box; Hernia is not a class)
    labelled = {i: {n for n, _ in b} for i, b in expected.items()}
    labelled['00000002_000'].add('Pulmonary fibrosis')
    for image_id, names in labelled.items():
        root, _ = _objects(voc / 'Annotations' / f'{image_id}.xml')
        assert sorted(n.text for n in root.findall('image_labels/name')
                      ) == sorted(names), image_id

    labels = pd.read_csv(out / 'labels.csv')
    assert list(labels.columns) == ['image_id', 'split', 'source',
                                    *CXR_CLASSES]
    split_of = {i: s for s, ids in sets.items() for i in ids}
    for row in labels.itertuples(index=False):
        assert row.split == split_of[row.image_id]
        names = labelled[row.image_id]
        assert [getattr(labels.loc[labels.image_id == row.image_id, c],
                        'iloc')[0] for c in CXR_CLASSES
                ] == [int(c in names) for c in CXR_CLASSES]
    assert set(labels.loc[labels['source'] == 'nih', 'image_id']) == {
        i for i in expected if i.startswith('0000')
    }

    written = json.loads((out / 'summary.json').read_text())
    assert written == json.loads(json.dumps(summary, default=str))
    assert written['arguments']['size'] == OUT
    assert written['missing_images'] == ['00000004_000', 'v5']
    assert set(written['unreadable_images']) == {'v7'}
    assert written['rejected_image_ids'] == ['../evil.png']
    assert written['dropped_rows']['nih'] == {
        'non_numeric_coordinates': 1,
        'unsafe_image_id': 1,
        'unmapped_label': 2,
        'missing_image': 1,
        'outside_image': 1,
    }
    assert written['dropped_rows']['vinbig'] == {
        'duplicate_row': 1,
        'no_finding_on_image_with_findings': 2,
        'unmapped_label': 1,
        'missing_image': 1,
    }
    assert written['unmapped_labels']['nih'] == {'Atelectasis': 2}
    assert written['clipped_boxes'] == {'nih': 1, 'vinbig': 0}
    assert written['dropped_images']['nih']['only_unmapped_labels'] == 1
    assert written['dropped_images']['vinbig']['missing_image'] == 1
    fusion = written['fusion']
    assert fusion['boxes_in']['Cardiomegaly'] == 3 + 1  # v1 + NIH
    assert fusion['boxes_out']['Cardiomegaly'] == 1 + 1
    assert fusion['boxes_out']['Nodule/Mass'] == 2 + 2
    splits = written['splits']
    assert sum(splits[s]['images'] for s in splits) == 9
    assert sum(splits[s]['negative_images'] for s in splits) == 2
    assert sum(splits[s]['boxes_per_class']['Nodule/Mass']
               for s in splits) == 4
    assert written['image_labels']['image_class_pairs_without_boxes'] == 1
    assert written['image_labels']['labels_without_boxes_per_class'][
        'Pulmonary fibrosis'] == 1
    assert sum(splits[s]['labels_without_boxes']['Pulmonary fibrosis']
               for s in splits) == 1
    # nothing left beside the output
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dataset', 'raw']


def test_existing_output_overwrite_and_strict(raw_data, tmp_path):
    tool = load_tool()
    out = tmp_path / 'dataset'
    tool.main(tool.parse_args(_argv(raw_data, out, '--size', '0')))
    with Image.open(out / 'VOCdevkit/VOC2007/JPEGImages/v1.png') as img:
        assert img.size == (V1_W, V1_H)  # --size 0 keeps the original
    marker = out / 'VOCdevkit' / 'VOC2007' / 'Annotations' / 'marker.xml'
    marker.write_text('old')
    with pytest.raises(FileExistsError, match='--overwrite'):
        tool.main(tool.parse_args(_argv(raw_data, out)))
    # --strict fails on the unsafe id, then on the missing image; the old
    # output stays whole
    with pytest.raises(ValueError, match=r'outside the output.*evil'):
        tool.main(tool.parse_args(_argv(raw_data, out, '--overwrite',
                                        '--strict')))
    csv = raw_data['nih_csv']
    csv.write_text(''.join(line for line in csv.open()
                           if 'evil' not in line))
    with pytest.raises(ValueError, match=r'missing images.*00000004_000'):
        tool.main(tool.parse_args(_argv(raw_data, out, '--overwrite',
                                        '--strict')))
    assert marker.read_text() == 'old'
    summary = tool.main(tool.parse_args(_argv(raw_data, out, '--overwrite')))
    assert not marker.exists()
    assert summary['arguments']['size'] == OUT
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dataset', 'raw']


def test_output_inside_input_refused(raw_data):
    tool = load_tool()
    with pytest.raises(ValueError, match='contains the input'):
        tool.main(
            tool.parse_args(
                _argv(raw_data, raw_data['root'], '--overwrite')))


def test_balance_and_negative_cap_from_cli(raw_data, tmp_path):
    """The class cap thins train only; val and test keep the mix of the
    uncapped run."""
    tool = load_tool()
    seed = 3
    plain = tool.main(
        tool.parse_args(
            _argv(raw_data, tmp_path / 'plain', '--seed', str(seed))))
    summary = tool.main(
        tool.parse_args(
            _argv(raw_data, tmp_path / 'dataset', '--negatives-per-split',
                  '0', '--max-images-per-class', '1', '--workers', '2',
                  '--seed', str(seed))))
    balance = summary['balance']
    assert balance['split'] == 'train'
    assert balance['per_class_images_before'] == {
        c: plain['splits']['train']['images_per_class'][c]
        for c in CXR_CLASSES}
    assert all(v <= 1 for v in balance['per_class_images_after'].values())
    assert summary['splits']['train']['images_per_class'] == balance[
        'per_class_images_after']
    for split in ('val', 'test'):
        assert summary['splits'][split]['images_per_class'] == plain[
            'splits'][split]['images_per_class']
    assert all(summary['splits'][s]['negative_images'] == 0
               for s in ('train', 'val', 'test'))


def test_round_trip_through_the_plugin_dataset(raw_data, tmp_path):
    """tool -> XML -> CXRVOCDataset gives back the boxes to 1e-3 px."""
    pytest.importorskip('mmdet')
    from cxr_mmdet.datasets import CXRVOCDataset
    tool = load_tool()
    out = tmp_path / 'dataset'
    tool.main(tool.parse_args(_argv(raw_data, out)))
    expected = _expected_boxes()
    seen = 0
    for split in ('train', 'val', 'test'):
        ds = CXRVOCDataset(
            data_root=str(out / 'VOCdevkit'),
            ann_file=f'VOC2007/ImageSets/Main/{split}.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            pipeline=[],
            test_mode=True)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            got = sorted((CXR_CLASSES[ins['bbox_label']], ins['bbox'])
                         for ins in info['instances'])
            want = sorted(expected[info['img_id']])
            assert [g[0] for g in got] == [w[0] for w in want]
            for (_, g), (_, w) in zip(got, want):
                np.testing.assert_allclose(g, w, atol=1e-3)
            seen += 1
    assert seen == len(expected)
