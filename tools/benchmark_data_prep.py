# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Time data preparation: table work on the real tables, image conversion.

Table work: the full NIH box list (984 rows), NIH ``Data_Entry`` and the
VinBig table (67,914 rows) from the ``torchxrayvision`` package, through
reading, label map, checks, WBF fusion, balancing and the split, in this
process (one core). No images ship with the tables, so sizes are assumed:
NIH 1024 x 1024; VinBig, the smallest image that holds all of the image's
boxes (fusion is scale-invariant, so the fused boxes do not depend on it).

Image conversion: synthetic NIH-like 1024 x 1024 PNGs and VinBig-like
16-bit MONOCHROME1 DICOMs written to a temporary folder, converted to
300 x 300 PNG at 1 and 2 workers.

Example::

    python tools/benchmark_data_prep.py --report-json summary_real.json
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=3,
                        help='table runs; the best is reported')
    parser.add_argument('--naive', action='store_true',
                        help='also time the naive groupby + WBF loop')
    parser.add_argument('--png-images', type=int, default=24)
    parser.add_argument('--dicom-images', type=int, default=8)
    parser.add_argument('--dicom-shape', type=int, nargs=2,
                        default=(2400, 2000), metavar=('H', 'W'))
    parser.add_argument('--workers', type=int, nargs='+', default=(1, 2))
    parser.add_argument('--skip-images', action='store_true')
    parser.add_argument('--report-json',
                        help='write the real-table report (counts) here')
    return parser.parse_args(argv)


def assumed_sizes(tables: dict) -> dict:
    """NIH 1024 x 1024; VinBig the extent of each image's boxes."""
    sizes = {i: (1024, 1024) for i in tables['nih']['image_id']}
    vinbig = tables['vinbig'].dropna(subset=['x1'])
    extent = vinbig.groupby('image_id')[['x1', 'y1']].max()
    sizes.update({
        i: (int(np.ceil(x)), int(np.ceil(y)))
        for i, x, y in zip(extent.index, extent['x1'], extent['y1'])
    })
    return sizes


def time_tables(repeat: int) -> tuple[dict, dict]:
    """Best-of-``repeat`` seconds per stage, and the last report."""
    from cxr_mmdet.data_prep.pipeline import (build_tables, select_rows,
                                              summarise_splits)
    from cxr_mmdet.data_prep.tables import (read_nih_boxes,
                                            read_nih_patient_ids,
                                            read_vinbig_rows)
    from cxr_mmdet.demo_data.xrv_tables import (NIH_BBOX_TABLE, NIH_DATA_ENTRY_TABLE,
                                 VINBIG_TABLE, find_xrv_table)
    best: dict = {}
    report: dict = {}
    for _ in range(repeat):
        t = {}
        start = time.perf_counter()
        patients = read_nih_patient_ids(find_xrv_table(NIH_DATA_ENTRY_TABLE))
        nih, nih_drops = read_nih_boxes(
            find_xrv_table(NIH_BBOX_TABLE), patients)
        vinbig, vin_drops = read_vinbig_rows(find_xrv_table(VINBIG_TABLE))
        t['read_tables'] = time.perf_counter() - start
        tables = {'nih': nih, 'vinbig': vinbig}
        sizes = assumed_sizes(tables)
        mark = time.perf_counter()
        selected = select_rows(tables, None, {
            'nih': nih_drops,
            'vinbig': vin_drops
        })
        t['select_rows'] = time.perf_counter() - mark
        mark = time.perf_counter()
        prepared = build_tables(selected, sizes)
        prepared.report['splits'] = summarise_splits(prepared.images,
                                                     prepared.boxes)
        t['fit_fuse_balance_split'] = time.perf_counter() - mark
        t['total'] = time.perf_counter() - start
        best = {k: min(v, best.get(k, np.inf)) for k, v in t.items()}
        report = prepared.report
    return best, report


def time_fusion_only(naive: bool) -> dict:
    """Seconds of the fusion step alone (and of the naive loop)."""
    from ensemble_boxes import weighted_boxes_fusion

    from cxr_mmdet.data_prep.fusion import fuse_radiologist_boxes
    from cxr_mmdet.data_prep.label_map import (apply_label_map,
                                               default_label_maps)
    from cxr_mmdet.data_prep.tables import read_vinbig_rows
    from cxr_mmdet.demo_data.xrv_tables import VINBIG_TABLE, find_xrv_table
    table, _ = read_vinbig_rows(find_xrv_table(VINBIG_TABLE))
    boxes, _ = apply_label_map(table[table['label'] != 'No finding'],
                               default_label_maps()['vinbig'])
    sizes = assumed_sizes({'nih': table.iloc[:0], 'vinbig': table})
    start = time.perf_counter()
    fuse_radiologist_boxes(boxes, sizes)
    out = {'fusion_s': time.perf_counter() - start, 'rows': len(boxes)}
    if naive:
        start = time.perf_counter()
        for (image_id, _), group in boxes.groupby(['image_id',
                                                   'class_name']):
            w, h = sizes[image_id]
            scale = np.array([w, h, w, h], float)
            lists = [g for _, g in group.groupby('reader')]
            weighted_boxes_fusion(
                [(g[['x0', 'y0', 'x1', 'y1']].to_numpy() / scale).tolist()
                 for g in lists], [[1.0] * len(g) for g in lists],
                [[0] * len(g) for g in lists],
                iou_thr=0.4)
        out['naive_groupby_wbf_s'] = time.perf_counter() - start
    return out


def _write_synthetic_images(folder: Path, n_png: int, n_dicom: int,
                            dicom_shape: tuple[int, int]) -> list:
    from PIL import Image
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (ExplicitVRLittleEndian,
                             SecondaryCaptureImageStorage, generate_uid)
    rng = np.random.default_rng(0)
    paths = []
    yy, xx = np.mgrid[0:1024, 0:1024]
    base = (96 + 64 * np.sin(xx / 90.0) * np.cos(yy / 70.0)).astype(np.uint8)
    for i in range(n_png):
        noise = rng.integers(0, 32, base.shape, dtype=np.uint8)
        path = folder / f'nih_{i:03d}.png'
        Image.fromarray(base + noise).save(path)
        paths.append(path)
    h, w = dicom_shape
    for i in range(n_dicom):
        pixels = rng.integers(200, 3800, (h, w)).astype('<u2')
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Rows, ds.Columns = h, w
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = 'MONOCHROME1'
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
        ds.PixelRepresentation = 0
        ds.WindowCenter, ds.WindowWidth = 2000, 3000
        ds.PixelData = pixels.tobytes()
        path = folder / f'vinbig_{i:03d}.dicom'
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def time_images(args: argparse.Namespace) -> dict:
    """Images per second of conversion at each worker count."""
    from cxr_mmdet.data_prep.image_io import ConversionJob, convert_images
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / 'src'
        src.mkdir()
        paths = _write_synthetic_images(src, args.png_images,
                                        args.dicom_images,
                                        tuple(args.dicom_shape))
        for workers in args.workers:
            dst = tmp / f'out_{workers}'
            dst.mkdir()
            jobs = [
                ConversionJob(p.stem, str(p), str(dst / f'{p.stem}.png'), 300)
                for p in paths
            ]
            start = time.perf_counter()
            results = convert_images(jobs, workers, progress=False)
            seconds = time.perf_counter() - start
            errors = [r.error for r in results if r.error]
            if errors:
                raise RuntimeError(f'conversion failed: {errors[:3]!r}')
            out[f'workers_{workers}'] = {
                'images': len(jobs),
                'seconds': round(seconds, 3),
                'images_per_s': round(len(jobs) / seconds, 2),
            }
    out['images'] = (f'{args.png_images} PNG 1024x1024 8-bit + '
                     f'{args.dicom_images} DICOM {args.dicom_shape[1]}x'
                     f'{args.dicom_shape[0]} 16-bit MONOCHROME1 -> 300x300')
    return out


def main(args: argparse.Namespace) -> dict:
    """Run the benchmark; print and return the figures."""
    import os
    figures: dict = {'cpu_count': os.cpu_count()}
    stages, report = time_tables(args.repeat)
    figures['tables_s'] = {k: round(v, 3) for k, v in stages.items()}
    figures['tables_under_10s'] = stages['total'] < 10.0
    figures['fusion'] = {
        k: round(v, 3) if isinstance(v, float) else v
        for k, v in time_fusion_only(args.naive).items()
    }
    if not args.skip_images:
        figures['image_conversion'] = time_images(args)
    if args.report_json:
        with open(args.report_json, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=2)
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == '__main__':
    main(parse_args())
