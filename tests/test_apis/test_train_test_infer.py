# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""End to end through the functions the tools call: train (real Runner),
validate, test, plot and infer on a tiny synthetic VOC tree."""
from __future__ import annotations

import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch

from cxr_mmdet.classes import CXR_CLASSES, class_key
from cxr_mmdet.apis import (evaluate_checkpoint, format_summary, run_inference,
                            train_detector)
from cxr_mmdet.testing import write_voc_tree

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'ssd',
                  'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')


def data_options(data_root: str, epochs: int = 2) -> dict:
    """cfg_options for a tiny, single-process, fast run."""
    opts = {
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.logger.interval': 1,
        'train_dataloader.batch_size': 2
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.update({
            f'{loader}.dataset.data_root': f'{data_root}/',
            f'{loader}.num_workers': 0,
            f'{loader}.persistent_workers': False
        })
    return opts


def cli_options(options: dict) -> list[str]:
    """``options`` as ``--cfg-options`` words."""
    return [f'{k}={v}' for k, v in options.items()]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('e2e')
    data_root = str(tmp / 'VOCdevkit')
    truth = write_voc_tree(data_root, num_trainval=8, num_test=4, size=96)
    work_dir = str(tmp / 'work')
    runner = train_detector(
        CONFIG, work_dir=work_dir, cfg_options=data_options(data_root))
    return dict(data_root=data_root, truth=truth, work_dir=work_dir,
                runner=runner, tmp=tmp)


METRIC_KEYS = [
    'coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_mAP_75',
    'coco/bbox_mAP_s', 'coco/bbox_mAP_m', 'coco/bbox_mAP_l',
    'coco/bbox_AR@100', 'coco/bbox_AR_s@1000', 'coco/bbox_AR_m@1000',
    'coco/bbox_AR_l@1000', 'pascal_voc/mAP', 'cxr/FROC'
]


def _scalars(work_dir):
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_train_writes_checkpoints_metrics_and_roc(trained):
    work_dir = trained['work_dir']
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    rows = _scalars(work_dir)
    val_rows = [r for r in rows if 'coco/bbox_mAP' in r]
    assert len(val_rows) == 2
    for key in METRIC_KEYS:
        assert key in val_rows[-1], key
    assert any(k.startswith('cxr/AUC_') for k in val_rows[-1]) or \
        'cxr/mAUC' not in val_rows[-1]
    assert any('loss_cls' in r for r in rows)
    assert glob.glob(osp.join(work_dir, 'roc', 'val_*.png'))
    assert glob.glob(osp.join(work_dir, 'roc', 'val_*.json'))


def test_checkpoint_meta_carries_losses_metrics_and_weights(trained):
    ckpt = torch.load(osp.join(trained['work_dir'], 'epoch_2.pth'))
    meta = ckpt['meta']
    assert {'loss', 'loss_cls', 'loss_bbox'} <= set(meta['train_losses'])
    assert all(np.isfinite(v) for v in meta['train_losses'].values())
    # the metrics are those logged for the validation the meta names
    val_rows = [r for r in _scalars(trained['work_dir'])
                if 'coco/bbox_mAP' in r]
    logged = val_rows[meta['val_metrics_epoch'] - 1]
    assert meta['val_metrics_epoch'] in (1, 2)
    for key in ('coco/bbox_mAP', 'pascal_voc/mAP', 'cxr/FROC'):
        assert meta['val_metrics'][key] == pytest.approx(logged[key],
                                                         abs=1e-4)
    for key in METRIC_KEYS:
        assert key in meta['val_metrics'], key
    weights = meta['class_weights']
    assert len(weights) == len(CXR_CLASSES)
    assert len(set(np.round(weights, 6))) > 1  # not one constant
    (best, ) = glob.glob(osp.join(trained['work_dir'], 'best_*.pth'))
    # the best checkpoint is saved after its validation: current metrics
    epoch = int(best.rsplit('_', 1)[1][:-len('.pth')])
    best_meta = torch.load(best)['meta']
    assert best_meta['val_metrics_epoch'] == epoch
    assert 'coco/bbox_mAP' in best_meta['val_metrics']


def test_training_writes_the_val_operating_points(trained):
    with open(osp.join(trained['work_dir'], 'operating_points.json')) as f:
        points = json.load(f)
    assert points['split'] == 'val' and isinstance(points['epoch'], int)
    assert set(points['points']) == set(CXR_CLASSES)
    for by_point in points['points'].values():
        assert 'fp1' in by_point
        assert by_point['fp1']['fp_per_image'] <= 1.0


def test_evaluate_checkpoint_saves_the_summary(trained):
    out_dir = str(trained['tmp'] / 'test')
    ckpt = osp.join(trained['work_dir'], 'epoch_2.pth')
    pkl = osp.join(out_dir, 'preds.pkl')
    result = evaluate_checkpoint(
        CONFIG,
        ckpt,
        work_dir=out_dir,
        out=pkl,
        cfg_options=data_options(trained['data_root']))
    metrics = result.metrics
    for key in METRIC_KEYS:
        assert key in metrics
    printed = format_summary(result.summary)
    assert 'mAP@0.4 (VinBig)' in printed and 'Nodule/Mass' in printed
    assert 'AP@[.5:.95]' in printed
    assert result.paths == [
        osp.join(out_dir, 'metrics.json'),
        osp.join(out_dir, 'per_class.json'),
        osp.join(out_dir, 'metrics_ci.json'),
        osp.join(out_dir, 'metrics_by_source.json'),
        # the val thresholds beside the checkpoint, checked on test
        osp.join(out_dir, 'operating_points_test.json'),
        osp.join(out_dir, 'error_gallery.json')
    ]
    # intervals of the evaluator's keys, around their values
    with open(osp.join(out_dir, 'metrics_ci.json')) as f:
        intervals = json.load(f)
    assert set(intervals) <= set(metrics) and 'pascal_voc/mAP' in intervals
    for key, ci in intervals.items():
        assert set(ci) == {'value', 'low', 'high', 'n_boot', 'level'}
        if ci['low'] is not None:
            assert ci['low'] - 1e-9 <= ci['value'] <= ci['high'] + 1e-9, key
    printed = format_summary(result.summary, None, result.intervals,
                             result.by_source)
    assert 'NIH' in printed and 'VinBig' in printed and '95% interval' in \
        printed
    with open(osp.join(out_dir, 'per_class.json')) as f:
        per_class = json.load(f)
    assert list(per_class) == list(CXR_CLASSES)
    assert osp.isfile(pkl)
    # the auc keys that exist are named after the classes
    for key in metrics:
        if key.startswith('cxr/AUC_'):
            assert key[len('cxr/AUC_'):] in {class_key(c)
                                             for c in CXR_CLASSES}


def test_plot_work_dir_writes_real_images(trained):
    from PIL import Image

    from cxr_mmdet.visualization import plot_work_dir
    plot_work_dir(trained['work_dir'])
    pngs = glob.glob(osp.join(trained['work_dir'], '**', 'loss_curve.png'),
                     recursive=True)
    assert pngs
    with Image.open(pngs[0]) as im:
        assert im.size[0] > 200 and im.size[1] > 150


def test_infer_on_png_and_dicom(trained):
    from cxr_mmdet.data_prep.image_io import read_image_uint8
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    png = glob.glob(osp.join(trained['data_root'], 'VOC2007', 'JPEGImages',
                             '*.png'))[0]
    gray = read_image_uint8(png)
    # a 16-bit MONOCHROME1 DICOM of a larger frame than the PNG
    big = np.kron(255 - gray.astype(np.uint16), np.ones((2, 2), np.uint16))
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1.1'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.Rows, ds.Columns = big.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.SamplesPerPixel, ds.PixelRepresentation = 1, 0
    ds.PhotometricInterpretation = 'MONOCHROME1'
    ds.PixelData = (big * 16).astype(np.uint16).tobytes()
    dcm = str(trained['tmp'] / 'scan.dicom')
    ds.save_as(dcm, enforce_file_format=True)
    out_dir = str(trained['tmp'] / 'infer')
    ckpt = osp.join(trained['work_dir'], 'epoch_2.pth')
    path = run_inference(CONFIG, ckpt, [png, dcm], out_dir, score_thr=0.0)['out_file']
    with open(path) as f:
        result = json.load(f)
    by_name = {osp.basename(r['file']): r for r in result['images']}
    assert by_name['scan.dicom']['width'] == 2 * gray.shape[1]
    for r in result['images']:
        assert osp.isfile(r['overlay'])
        for det in r['detections']:
            x1, y1, x2, y2 = det['bbox']
            assert -1 <= x1 <= x2 <= r['width'] + 1
            assert -1 <= y1 <= y2 <= r['height'] + 1
            assert det['class'] in CXR_CLASSES
