# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write a raw demo dataset: real annotation rows, synthetic images.

Layout (what ``tools/dataset_converters/prepare_data.py`` reads)::

    OUT/nih/BBox_List_2017.csv        real rows, boxes scaled to the PNGs
    OUT/nih/Data_Entry_2017.csv       the real rows of those images, with
                                      Finding Labels = the drawn findings
    OUT/nih/images/<Image Index>      PNG, 8-bit grey
    OUT/vinbig/train.csv              real rows (all readers), scaled
    OUT/vinbig/images/<image_id>.png  or ``.dicom`` (12-bit, VOI window)
    OUT/demo_manifest.json            choices, frames, scales and counts
"""
from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from cxr_mmdet.classes import CXR_CLASSES, NIH_LABEL_MAP, VINBIG_LABEL_MAP
from .xrv_tables import (NIH_BBOX_TABLE, NIH_DATA_ENTRY_TABLE, VINBIG_TABLE,
                         find_xrv_table)
from .sample_rows import (NIH_FRAME, DemoImage, nih_bbox_lines,
                          read_nih_bbox_list, read_nih_data_entry_lines,
                          read_vinbig_table, sample_demo_images,
                          scale_nih_rows, scale_vinbig_rows, vinbig_frame,
                          vinbig_lines)
from .radiographs import (Lesion, merge_reader_boxes, render_radiograph,
                          to_dicom_pixels, to_uint8)

#: Name of the JSON file that records what the generator did.
MANIFEST_NAME = 'demo_manifest.json'
#: Smallest lesion side (pixels at 300x300) of the demo's images: what
#: ``make demo`` and ``tools/dataset_converters/make_demo_data.py`` draw,
#: so that a small CPU model learns them in minutes.
DEMO_MIN_BOX_SIZE = 20.0

#: SOP class of 'Digital X-Ray Image Storage - For Presentation'.
DX_FOR_PRESENTATION = '1.2.840.10008.5.1.4.1.1.1.1'


def output_size(frame: tuple[int, int],
                long_side: int) -> tuple[int, int]:
    """(width, height) of an image whose ``frame`` is shrunk to
    ``long_side`` (never enlarged)."""
    width, height = frame
    scale = min(1.0, long_side / max(width, height))
    return max(1, int(round(width * scale))), max(1,
                                                  int(round(height * scale)))


def image_rng(seed: int, source: str, image_id: str) -> np.random.Generator:
    """The random generator of one image: depends on the seed and the id
    only, not on which other images were drawn."""
    key = zlib.crc32(f'{source}/{image_id}'.encode())
    return np.random.default_rng([seed, key])


def nih_lesions(rows: pd.DataFrame) -> list[Lesion]:
    """One lesion per mapped NIH row (rows already scaled)."""
    names = rows['finding_label'].map(NIH_LABEL_MAP).to_numpy()
    xywh = rows[['x', 'y', 'w', 'h']].to_numpy(dtype=float)
    return [
        Lesion(name, (x, y, x + w, y + h))
        for name, (x, y, w, h) in zip(names, xywh.tolist())
        if isinstance(name, str)
    ]


def vinbig_lesions(rows: pd.DataFrame, merge_iou: float) -> list[Lesion]:
    """Lesions of one VinBig image (rows already scaled).

    The readers' boxes of one class are grouped by
    :func:`merge_reader_boxes`, so one lesion is drawn per group, in the
    mean box.
    """
    names = rows['class_name'].map(VINBIG_LABEL_MAP).to_numpy()
    boxes = rows[['x_min', 'y_min', 'x_max', 'y_max']].to_numpy(dtype=float)
    lesions = []
    for name in CXR_CLASSES:
        own = [
            tuple(box) for n, box in zip(names, boxes.tolist())
            if n == name and not np.isnan(box).any()
        ]
        for box in merge_reader_boxes(own, merge_iou):
            lesions.append(Lesion(name, box))
    return lesions


def write_dicom(path: str | Path,
                stored: np.ndarray,
                photometric: str = 'MONOCHROME1',
                window: tuple[float, float] | None = None,
                image_id: str | None = None,
                bits_stored: int = 12) -> Path:
    """Write a single-frame DX DICOM file (explicit VR little endian);
    return its path.

    UIDs derive from ``image_id`` (default: the file name's stem), so the
    bytes are deterministic. ``window`` (center, width) writes a linear
    VOI window; None writes none.
    """
    if image_id is None:
        image_id = Path(path).stem
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    sop_uid = generate_uid(entropy_srcs=['cxr_mmdet-demo', image_id])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_FOR_PRESENTATION
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = DX_FOR_PRESENTATION
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid(entropy_srcs=['study', image_id])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=['series', image_id])
    ds.Modality = 'DX'
    ds.PatientID = image_id[:16]
    ds.PatientName = 'Demo^Synthetic'
    ds.BodyPartExamined = 'CHEST'
    ds.ImageType = ['DERIVED', 'SECONDARY']
    ds.Rows, ds.Columns = (int(v) for v in stored.shape)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    if window is not None:
        ds.WindowCenter = window[0]
        ds.WindowWidth = window[1]
        ds.VOILUTFunction = 'LINEAR'
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.PixelData = stored.astype('<u2').tobytes()
    if int(pydicom.__version__.split('.')[0]) >= 3:
        ds.save_as(str(path), enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.x
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(str(path), write_like_original=False)
    return Path(path)


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix with an earlier run unless ``overwrite``."""
    ours = [out_dir / 'nih', out_dir / 'vinbig', out_dir / MANIFEST_NAME]
    present = [p for p in ours if p.exists()]
    if present and not overwrite:
        raise ValueError(f'{out_dir} already holds a demo dataset, got '
                         f'{[str(p) for p in present]!r}; pass '
                         'overwrite=True (--overwrite) to replace it')
    for p in present:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink()


def _pick_dicom(images: list[DemoImage], num_dicom: int,
                seed: int) -> dict[str, str]:
    """VinBig image ids to write as DICOM -> photometric interpretation.

    The first half (rounded up) of the random pick is MONOCHROME1.
    """
    vin = [im.image_id for im in images if im.source == 'vinbig']
    if num_dicom < 0:
        raise ValueError(f'num_dicom must be >= 0, got {num_dicom!r}')
    rng = np.random.default_rng([seed, 1])
    picks = rng.permutation(len(vin))[:min(num_dicom, len(vin))]
    n_mono1 = (len(picks) + 1) // 2
    return {
        vin[int(k)]: 'MONOCHROME1' if i < n_mono1 else 'MONOCHROME2'
        for i, k in enumerate(picks)
    }


def with_finding_labels(line: str, labels: list[str]) -> str:
    """A ``Data_Entry`` line with its ``Finding Labels`` cell (the second)
    replaced by ``labels`` (``Data_Entry`` spelling, ``|``-joined).

    The demo draws only the boxed findings, so its image labels name
    those: a real finding without a box would be a label the synthetic
    image does not show. Every other cell stays verbatim.

    >>> with_finding_labels('a.png,Mass|Hernia,0,1', ['Infiltrate'])
    'a.png,Infiltration,0,1'
    """
    name, _, rest = line.split(',', 2)
    spelled = sorted({'Infiltration' if x == 'Infiltrate' else x
                      for x in labels})
    return ','.join([name, '|'.join(spelled), rest])


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', newline='') as f:
        f.write('\n'.join(lines) + '\n')


def make_demo_dataset(out_dir: str | Path,
                      num_images: int = 480,
                      seed: int = 0,
                      long_side: int = 512,
                      negative_fraction: float = 0.1,
                      nih_share: float = 0.5,
                      num_dicom: int = 8,
                      merge_iou: float = 0.4,
                      min_box_size: float = 0.0,
                      overwrite: bool = False,
                      progress: bool = False) -> dict:
    """Generate the demo dataset in ``out_dir``; return the manifest.

    Args:
        out_dir: output root (created).
        num_images: images in all, NIH and VinBig together.
        seed: makes everything reproducible (same seed, same bytes).
        long_side: long side in pixels of the written images; the CSV
            boxes are scaled into that frame.
        negative_fraction: share of all-'No finding' VinBig images.
        nih_share: chance that a class NIH has boxes of is drawn from NIH.
        num_dicom: how many VinBig images are written as DICOM (half of
            them, rounded up, MONOCHROME1).
        merge_iou: IoU at which VinBig readers' boxes of one class count
            as the same lesion (drawn once, in their mean box).
        min_box_size: draw only positive images whose six-class boxes are
            all at least this many pixels (sqrt of the area) at 300x300.
        overwrite: replace an earlier demo dataset in ``out_dir``.
        progress: show a tqdm bar.

    Returns:
        dict: the manifest also written to ``out_dir/demo_manifest.json``.
    """
    if long_side < 64:
        raise ValueError(f'long_side must be >= 64, got {long_side!r}')
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, overwrite)
    nih_bbox = read_nih_bbox_list(find_xrv_table(NIH_BBOX_TABLE))
    vinbig = read_vinbig_table(find_xrv_table(VINBIG_TABLE))
    images = sample_demo_images(nih_bbox, vinbig, num_images, seed,
                                negative_fraction, nih_share, min_box_size)
    dicom = _pick_dicom(images, num_dicom, seed)

    nih_ids = {im.image_id for im in images if im.source == 'nih'}
    vin_ids = {im.image_id for im in images if im.source == 'vinbig'}
    nih_rows = nih_bbox[nih_bbox['image_index'].isin(nih_ids)]
    vin_rows = vinbig[vinbig['image_id'].isin(vin_ids)]
    nih_groups = dict(tuple(nih_rows.groupby('image_index', sort=False)))
    vin_groups = dict(tuple(vin_rows.groupby('image_id', sort=False)))

    (out_dir / 'nih' / 'images').mkdir(parents=True, exist_ok=True)
    (out_dir / 'vinbig' / 'images').mkdir(parents=True, exist_ok=True)
    scaled_nih, scaled_vin, records = {}, {}, []
    iterator = images
    if progress:
        from tqdm import tqdm
        iterator = tqdm(images, desc='demo images', unit='img')
    for im in iterator:
        if im.source == 'nih':
            frame = NIH_FRAME
        else:
            frame = vinbig_frame(vin_groups[im.image_id])
        width, height = output_size(frame, long_side)
        sx, sy = width / frame[0], height / frame[1]
        if im.source == 'nih':
            rows = scale_nih_rows(nih_groups[im.image_id], sx, sy)
            scaled_nih[im.image_id] = rows
            lesions = nih_lesions(rows)
        else:
            rows = scale_vinbig_rows(vin_groups[im.image_id], sx, sy)
            scaled_vin[im.image_id] = rows
            lesions = vinbig_lesions(rows, merge_iou)
        image = render_radiograph(height, width, lesions,
                                  image_rng(seed, im.source, im.image_id))
        photometric = dicom.get(im.image_id) if im.source == 'vinbig' else None
        if im.source == 'nih':
            file_name = f'nih/images/{im.image_id}'
        elif photometric:
            file_name = f'vinbig/images/{im.image_id}.dicom'
        else:
            file_name = f'vinbig/images/{im.image_id}.png'
        path = out_dir / file_name
        if photometric:
            stored, center, wwidth = to_dicom_pixels(image, photometric)
            write_dicom(path, stored, photometric, (center, wwidth),
                        im.image_id)
        else:
            Image.fromarray(to_uint8(image), mode='L').save(
                path, compress_level=1)
        records.append(
            dict(source=im.source, image_id=im.image_id, file=file_name,
                 drawn_for=im.drawn_for, classes=list(im.classes),
                 frame=list(frame), size=[width, height], scale=[sx, sy],
                 photometric=photometric or 'PNG',
                 lesions=[dict(class_name=les.class_name,
                               box=[round(v, 4) for v in les.box])
                          for les in lesions]))

    # rows keep the order of the real tables
    nih_out = (pd.concat(scaled_nih.values()).loc[nih_rows.index]
               if scaled_nih else nih_rows)
    vin_out = (pd.concat(scaled_vin.values()).loc[vin_rows.index]
               if scaled_vin else vin_rows)
    _write_lines(out_dir / 'nih' / 'BBox_List_2017.csv',
                 nih_bbox_lines(nih_out))
    entry_header, entry_lines = read_nih_data_entry_lines(
        find_xrv_table(NIH_DATA_ENTRY_TABLE), nih_ids)
    drawn = nih_rows.groupby('image_index')['finding_label'].agg(
        lambda labels: sorted(set(labels)))
    _write_lines(out_dir / 'nih' / 'Data_Entry_2017.csv', [entry_header] + [
        with_finding_labels(entry_lines[i], drawn[i]) for i in sorted(nih_ids)
    ])
    _write_lines(out_dir / 'vinbig' / 'train.csv', vinbig_lines(vin_out))

    manifest = dict(
        generator='cxr_mmdet.demo_data.make_demo_dataset',
        options=dict(num_images=num_images, seed=seed, long_side=long_side,
                     negative_fraction=negative_fraction,
                     nih_share=nih_share, num_dicom=num_dicom,
                     merge_iou=merge_iou, min_box_size=min_box_size),
        counts=count_demo_rows(nih_out, vin_out, records),
        images=records)
    with open(out_dir / MANIFEST_NAME, 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write('\n')
    return manifest


def count_demo_rows(nih_rows: pd.DataFrame, vin_rows: pd.DataFrame,
                    records: list[dict]) -> dict:
    """Per-class and per-source counts of what the demo wrote.

    Per class: ``images`` (with a row of it), ``nih_rows`` and
    ``vinbig_rows`` (boxes as written, every reader counted) and
    ``lesions`` (drawn). Rows whose label is not one of the six classes
    are counted under ``unmapped_rows`` by source and label.
    """
    nih_mapped = nih_rows['finding_label'].map(NIH_LABEL_MAP)
    vin_mapped = vin_rows['class_name'].map(VINBIG_LABEL_MAP)
    per_class = {}
    for name in CXR_CLASSES:
        per_class[name] = dict(
            images=sum(name in r['classes'] for r in records),
            nih_rows=int((nih_mapped == name).sum()),
            vinbig_rows=int((vin_mapped == name).sum()),
            lesions=sum(les['class_name'] == name for r in records
                        for les in r['lesions']))
    unmapped = {
        'nih': {str(k): int(v) for k, v in
                nih_rows.loc[nih_mapped.isna(),
                             'finding_label'].value_counts().sort_index()
                .items()},
        'vinbig': {str(k): int(v) for k, v in
                   vin_rows.loc[vin_mapped.isna(),
                                'class_name'].value_counts().sort_index()
                   .items()},
    }
    photometric = pd.Series([r['photometric'] for r in records],
                            dtype=object).value_counts().sort_index()
    return dict(
        images=len(records),
        images_by_source={
            s: sum(r['source'] == s for r in records)
            for s in ('nih', 'vinbig')
        },
        negatives=sum(r['drawn_for'] is None for r in records),
        files_by_kind={str(k): int(v) for k, v in photometric.items()},
        rows=dict(nih=len(nih_rows), vinbig=len(vin_rows)),
        per_class=per_class,
        unmapped_rows=unmapped)


def format_counts(manifest: dict) -> str:
    """The manifest's per-class counts as a text table."""
    from terminaltables import AsciiTable
    rows = [['class', 'images', 'nih rows', 'vinbig rows', 'lesions']]
    rows += [[
        name,
        str(c['images']),
        str(c['nih_rows']),
        str(c['vinbig_rows']),
        str(c['lesions'])
    ] for name, c in manifest['counts']['per_class'].items()]
    table = AsciiTable(rows)
    for i in range(1, len(rows[0])):
        table.justify_columns[i] = 'right'
    return table.table
