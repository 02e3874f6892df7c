# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Inference sees what testing sees: inferring an original image gives the
detections that testing its prepared copy gives, in the original's frame."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from cxr_mmdet.data_prep import PrepareConfig, prepare_dataset
from cxr_mmdet.data_prep.image_io import read_image_uint8, resize_to_square
from cxr_mmdet.testing import write_dicom, write_png, write_vinbig_csv
from tests.test_reliability.conftest import write_tiny_config
from tests.test_reliability.test_bad_inputs_round2 import (_build_model,
                                                           save_checkpoint)

PREP_SIZE = 48
NIH = {  # file -> (width, height)
    '00000001_000.png': (200, 150),
    '00000002_000.png': (130, 170),
    '00000003_000.png': (160, 140),
}
VIN = {'v1': (180, 160)}


def _raw(root: Path) -> dict[str, Path]:
    """NIH PNGs and a VinBig 16-bit DICOM, each with one box; the
    originals by image id."""
    rng = np.random.default_rng(3)
    originals = {}
    lines = ['Image Index,Finding Label,Bbox [x,y,w,h],,,']
    for name, (w, h) in NIH.items():
        pixels = rng.integers(0, 120, (h, w), dtype=np.uint8)
        pixels[h // 4:h // 2, w // 5:w // 2] = 230
        originals[name[:-4]] = write_png(root / 'nih' / name, pixels)
        lines.append(f'{name},Effusion,{w // 5},{h // 4},{w // 3},{h // 4}')
    (root / 'BBox_List_2017.csv').write_text('\n'.join(lines) + '\n')
    rows = []
    for image_id, (w, h) in VIN.items():
        pixels = rng.integers(0, 3000, (h, w)).astype(np.uint16)
        pixels[h // 3:h // 2, w // 3:2 * w // 3] = 4000
        originals[image_id] = write_dicom(
            root / 'vinbig' / f'{image_id}.dicom', pixels, 'MONOCHROME2')
        rows.append((image_id, 'Cardiomegaly', 'R1', w // 3, h // 3,
                     2 * w // 3, h // 2))
    write_vinbig_csv(root / 'train.csv', rows)
    return originals


@pytest.fixture(scope='module')
def prepared(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('parity')
    originals = _raw(root / 'raw')
    out = root / 'out'
    prepare_dataset(
        PrepareConfig(
            out=str(out),
            nih_csv=str(root / 'raw' / 'BBox_List_2017.csv'),
            nih_images=str(root / 'raw' / 'nih'),
            vinbig_csv=str(root / 'raw' / 'train.csv'),
            vinbig_images=str(root / 'raw' / 'vinbig'),
            size=PREP_SIZE,
            # four images: two for train, one each for val and test
            test_fraction=0.25,
            val_fraction=0.25,
            progress=False))
    data_root = out / 'VOCdevkit'
    voc = data_root / 'VOC2007'
    ids = sorted(p.stem for p in (voc / 'Annotations').glob('*.xml'))
    assert ids == sorted(originals)
    (voc / 'ImageSets' / 'Main' / 'all.txt').write_text('\n'.join(ids) +
                                                         '\n')
    config = write_tiny_config(
        str(root / 'tiny.py'), str(data_root), epochs=1, input_size=160)
    checkpoint = save_checkpoint(root / 'model.pth',
                                 _build_model(config).state_dict())
    return dict(
        root=root,
        voc=voc,
        config=config,
        checkpoint=checkpoint,
        originals=originals)


def test_inference_input_is_the_prepared_image(prepared):
    """Same reader, same resize, same 8-bit scaling as prep's PNGs."""
    for image_id, original in prepared['originals'].items():
        png = read_image_uint8(prepared['voc'] / 'JPEGImages' /
                               f'{image_id}.png')
        ours = resize_to_square(read_image_uint8(original), PREP_SIZE)
        np.testing.assert_array_equal(ours, png)


def _sorted(bboxes: np.ndarray, scores: np.ndarray, labels: np.ndarray):
    order = np.argsort(-scores, kind='stable')
    return bboxes[order], scores[order], labels[order]


def test_infer_on_originals_equals_test_on_prepared_copies(prepared):
    from mmengine.runner import Runner

    from cxr_mmdet.apis import (build_test_cfg, load_checkpoint_strict,
                                run_inference)
    root = prepared['root']
    dump = str(root / 'test.pkl')
    cfg = build_test_cfg(
        prepared['config'],
        prepared['checkpoint'],
        work_dir=str(root / 'work'),
        split=None,  # the ann_file below, every prepared image
        out=dump,
        cfg_options={
            'test_dataloader.batch_size': 1,
            'test_dataloader.dataset.ann_file':
            'VOC2007/ImageSets/Main/all.txt'
        })
    runner = Runner.from_cfg(cfg)
    load_checkpoint_strict(runner, prepared['checkpoint'])
    runner.test()
    with open(dump, 'rb') as f:
        tested = {Path(s['img_path']).stem: s for s in pickle.load(f)}
    assert sorted(tested) == sorted(prepared['originals'])

    record = run_inference(
        prepared['config'],
        prepared['checkpoint'],
        [str(p) for p in prepared['originals'].values()],
        str(root / 'infer'),
        score_thr=0.0,
        progress=False)
    assert record['prep_size'] == PREP_SIZE  # read from summary.json
    assert record['failed'] == []
    by_stem = {Path(r['file']).stem: r for r in record['images']}
    for image_id, result in by_stem.items():
        width, height = result['width'], result['height']
        pred = tested[image_id]['pred_instances']
        bboxes, scores, labels = _sorted(pred['bboxes'].numpy(),
                                         pred['scores'].numpy(),
                                         pred['labels'].numpy())
        assert len(bboxes) > 0
        dets = result['detections']
        assert len(dets) == len(bboxes)
        # the prepared frame mapped to the original's pixels
        scale = np.array([width, height, width, height]) / PREP_SIZE
        np.testing.assert_allclose([d['bbox'] for d in dets],
                                   bboxes * scale,
                                   atol=0.006)
        np.testing.assert_allclose([d['score'] for d in dets],
                                   scores,
                                   atol=6e-5)
        assert [d['label'] for d in dets] == labels.tolist()
        # and the boxes lie in the original's frame
        corners = np.array([d['bbox'] for d in dets])
        assert corners[:, 2].max() <= width + 1
        assert corners[:, 3].max() <= height + 1


def test_prep_size_option_overrides_the_dataset(prepared):
    from cxr_mmdet.apis import run_inference
    original = next(iter(prepared['originals'].values()))
    record = run_inference(
        prepared['config'],
        prepared['checkpoint'], [str(original)],
        str(prepared['root'] / 'infer0'),
        size=0,
        progress=False)
    assert record['prep_size'] == 0
    assert record['images'][0]['width'] == NIH['00000001_000.png'][0]
