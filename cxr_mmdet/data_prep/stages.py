# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The table stages of data preparation: frames in, frames and a report out.

They run around the only thing they need from the image files, their
sizes:

1. :func:`select_rows`: safe ids, duplicates, ``No finding`` negatives,
   label map (boxes and NIH image labels), box geometry.
2. :func:`build_tables`: VinBig boxes rescaled from the original frame
   (``--vinbig-meta``), boxes against image sizes (clip, drop, or stop on a
   resized export), WBF fusion, boxes too small for the output size, image
   labels (boxes OR NIH findings), the grouped stratified train/val/test
   split, the class cap on train, negatives per split.

:func:`prepare_tables` runs both for given sizes (tests, benchmark).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES

from .balance import balance_images
from .box_checks import (check_box_geometry,
                         drop_small_boxes, fit_boxes_to_images,
                         image_sizes_of)
from .fusion import fuse_radiologist_boxes
from .label_map import apply_label_map, default_label_maps
from .negatives import (IMAGE_COLUMNS, select_negatives, split_no_finding,
                        train_negatives_for)
from .options import PrepareConfig
from .split import SPLITS, split_by_group, split_fractions
from .tables import COORD_COLUMNS, drop_duplicate_rows, reject_unsafe_ids

#: Defaults of the keyword arguments: the CLI's.
_DEFAULTS = PrepareConfig()


@dataclass
class SelectedRows:
    """Output of :func:`select_rows`.

    ``findings``: mapped image labels from outside the box tables (NIH
    ``Finding Labels``), one row per ``image_id, class_name``.
    """
    boxes: pd.DataFrame
    negatives: pd.DataFrame
    report: dict = field(default_factory=dict)
    findings: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=['image_id', 'class_name']))


@dataclass
class PreparedTables:
    """Output of :func:`build_tables`: what the VOC writer needs.

    ``boxes``: fused boxes in source-image pixels (columns
    :data:`~cxr_mmdet.data_prep.fusion.FUSED_COLUMNS`). ``images``: one row
    per kept image with ``image_id, file_name, source, group, split`` and a
    0/1 column per class: the image labels (its boxes OR its NIH
    findings).
    """
    boxes: pd.DataFrame
    images: pd.DataFrame
    report: dict = field(default_factory=dict)


class ResizedExportError(ValueError):
    """Boxes of an image lie outside it: the table is in another frame."""


def _new_report() -> dict:
    return {
        'rows_read': {},
        'dropped_rows': {},
        'unmapped_labels': {},
        'rejected_image_ids': [],
        'clipped_boxes': {},
        'dropped_images': {},
        'negatives': {},
    }


def _add(report: dict, key: str, source: str, counts: Mapping) -> None:
    bucket = report[key].setdefault(source, {})
    for reason, n in counts.items():
        if n:
            bucket[reason] = bucket.get(reason, 0) + int(n)


def _lost_images(before: pd.Series, after: pd.Series) -> int:
    return len(set(before) - set(after))


def map_findings(findings: pd.DataFrame | None,
                 mapping: Mapping[str, str]) -> pd.DataFrame:
    """Map ``image_id, label`` rows onto ``image_id, class_name`` (labels
    outside ``mapping`` are left out: they are not among the classes)."""
    if findings is None or findings.empty:
        return pd.DataFrame(columns=['image_id', 'class_name'])
    names = findings['label'].map(mapping)
    mapped = findings.assign(class_name=names)[names.notna()]
    return mapped[['image_id', 'class_name']].drop_duplicates().reset_index(
        drop=True)


def select_rows(tables: Mapping[str, pd.DataFrame],
                label_maps: Mapping[str, Mapping[str, str]] | None = None,
                read_drops: Mapping[str, Counter] | None = None,
                strict: bool = False,
                nih_findings: pd.DataFrame | None = None) -> SelectedRows:
    """Stage 1: the table checks that need no image.

    Args:
        tables: ``source -> box table`` from the readers.
        label_maps: ``source -> {label: class}``; defaults from
            :mod:`cxr_mmdet.classes`.
        read_drops: ``source -> counter`` of rows the readers dropped.
        strict (bool): Raise on an unsafe image id instead of dropping it.
        nih_findings (pd.DataFrame, optional): NIH image labels
            (``image_id, label``, from
            :func:`~cxr_mmdet.data_prep.nih_findings.read_nih_data_entry`),
            mapped through the NIH label map.

    Returns:
        SelectedRows: mapped box rows (with ``class_name``), the negative
        images, the mapped findings and the report so far.
    """
    label_maps = label_maps or default_label_maps()
    report = _new_report()
    boxes_parts, negative_parts = [], []
    for source, table in tables.items():
        report['rows_read'][source] = int(len(table)) + sum(
            (read_drops or {}).get(source, Counter()).values())
        _add(report, 'dropped_rows', source, (read_drops or {}).get(
            source, Counter()))
        n_before = len(table)
        table, rejected = reject_unsafe_ids(table)
        if rejected and strict:
            raise ValueError(f'{source}: image ids that would write outside '
                             f'the output: {rejected[:10]!r}')
        _add(report, 'dropped_rows', source,
             {'unsafe_image_id': n_before - len(table)})
        report['rejected_image_ids'].extend(rejected)
        table, n_dup = drop_duplicate_rows(table)
        _add(report, 'dropped_rows', source, {'duplicate_row': n_dup})
        table, negatives, disagreeing = split_no_finding(table)
        _add(report, 'dropped_rows', source,
             {'no_finding_on_image_with_findings': disagreeing})
        report['negatives'][source] = int(len(negatives))
        before = table['image_id']
        table, unmapped = apply_label_map(table, label_maps.get(source, {}))
        _add(report, 'dropped_rows', source,
             {'unmapped_label': sum(unmapped.values())})
        _add(report, 'unmapped_labels', source, unmapped)
        _add(report, 'dropped_images', source,
             {'only_unmapped_labels': _lost_images(before, table['image_id'])})
        before = table['image_id']
        table, bad = check_box_geometry(table)
        _add(report, 'dropped_rows', source, bad)
        _add(report, 'dropped_images', source,
             {'all_boxes_invalid': _lost_images(before, table['image_id'])})
        boxes_parts.append(table)
        negative_parts.append(negatives)
    if not boxes_parts:
        raise ValueError('no annotation table given')
    boxes = pd.concat(boxes_parts, ignore_index=True)
    negatives = pd.concat(negative_parts, ignore_index=True)
    _check_id_collisions(boxes, negatives)
    report['rejected_image_ids'] = sorted(set(report['rejected_image_ids']))
    findings = map_findings(nih_findings, label_maps.get('nih', {}))
    nih_ids = set(boxes.loc[boxes['source'] == 'nih', 'image_id'])
    findings = findings[findings['image_id'].isin(nih_ids)]
    return SelectedRows(boxes, negatives, report,
                        findings.reset_index(drop=True))


def _check_id_collisions(boxes: pd.DataFrame,
                         negatives: pd.DataFrame) -> None:
    """Raise if one image id comes from two sources (two files, one name)."""
    pairs = pd.concat([boxes[['image_id', 'source']],
                       negatives[['image_id', 'source']]]).drop_duplicates()
    repeated = pairs['image_id'][pairs['image_id'].duplicated()]
    if len(repeated):
        raise ValueError(f'image ids present in more than one source: '
                         f'{sorted(set(repeated))[:10]!r}')


def class_flags(pairs: pd.DataFrame, image_ids) -> pd.DataFrame:
    """0/1 frame (index ``image_ids``, a column per class) of the
    ``image_id, class_name`` pairs."""
    index = pd.Index(list(image_ids), name='image_id')
    if pairs.empty:
        return pd.DataFrame(0, index=index, columns=list(CXR_CLASSES))
    flags = pd.crosstab(pairs['image_id'], pairs['class_name']) > 0
    flags = flags.reindex(
        index=index, columns=list(CXR_CLASSES), fill_value=False)
    return flags.fillna(False).astype(int)


def _image_table(boxes: pd.DataFrame,
                 findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per image of ``boxes``, a 0/1 column per class: its boxes'
    classes OR its findings."""
    meta = boxes.drop_duplicates('image_id')[list(IMAGE_COLUMNS)]
    if meta.empty:
        return meta.assign(**{c: 0 for c in CXR_CLASSES})
    meta = meta.set_index('image_id')
    flags = class_flags(boxes, meta.index)
    if findings is not None and not findings.empty:
        flags = flags | class_flags(findings, meta.index)
    table = meta.join(flags.astype(int))
    return table.reset_index().sort_values('image_id').reset_index(
        drop=True)


def _per_class_images(images: pd.DataFrame) -> dict[str, int]:
    return {c: int(images[c].sum()) for c in CXR_CLASSES}


def rescale_to_images(boxes: pd.DataFrame,
                      original_sizes: Mapping[str, tuple[float, float]],
                      sizes: Mapping[str, tuple[int, int]],
                      meta_name: str = '--vinbig-meta') -> pd.DataFrame:
    """Rescale boxes from each image's original frame to its file's size.

    Args:
        boxes (pd.DataFrame): Box rows in the original frame.
        original_sizes: ``image_id -> (width, height)`` of that frame.
        sizes: ``image_id -> (width, height)`` of the files at hand (an
            image without a size is left as is; it is dropped later).
        meta_name (str): What to name in errors.

    Raises:
        ValueError: If an image with a size has no original size.
    """
    ids = boxes['image_id']
    present = ids.isin(set(sizes))
    lacking = sorted(set(ids[present]) - set(original_sizes))
    if lacking:
        raise ValueError(f'{meta_name} has no row for the images '
                         f'{lacking[:10]!r} ({len(lacking)} in all); give '
                         'dim0 (height) and dim1 (width) of each')
    orig = image_sizes_of(ids, original_sizes)
    have = image_sizes_of(ids, sizes)
    sx = np.where(present, have[:, 0] / orig[:, 0], 1.0)
    sy = np.where(present, have[:, 1] / orig[:, 1], 1.0)
    out = boxes.copy()
    for col, scale in zip(COORD_COLUMNS, (sx, sy, sx, sy)):
        out[col] = out[col].to_numpy(float) * scale
    return out


def check_resized_export(boxes: pd.DataFrame,
                         sizes: Mapping[str, tuple[int, int]],
                         tolerance: float,
                         max_share: float,
                         source: str = 'vinbig') -> None:
    """Stop when too many of an image's boxes lie outside it.

    A box is outside when a corner lies beyond ``tolerance`` of the side
    (what :func:`fit_boxes_to_images` drops). More than ``max_share`` of
    an image's boxes outside is the mark of a resized export whose table
    is in the original frame.

    Raises:
        ResizedExportError: Naming the image, its size, a box and the fix.
    """
    if max_share >= 1.0 or boxes.empty:
        return
    wh = image_sizes_of(boxes['image_id'], sizes)
    known = ~np.isnan(wh[:, 0])
    w, h = np.where(known, wh[:, 0], 1.0), np.where(known, wh[:, 1], 1.0)
    xy = boxes[list(COORD_COLUMNS)].to_numpy(float)
    side = np.stack([w, h, w, h], axis=1)
    outside = known & ((xy < -tolerance * side) |
                       (xy > (1 + tolerance) * side)).any(axis=1)
    if not outside.any():
        return
    share = pd.Series(outside).groupby(boxes['image_id'].to_numpy()).mean()
    bad = share[share > max_share]
    if bad.empty:
        return
    image_id = bad.index[0]
    row = int(np.flatnonzero(outside & (boxes['image_id'] == image_id)
                             .to_numpy())[0])
    width, height = sizes[image_id]
    box = [round(float(v), 1) for v in xy[row]]
    fix = ('pass --vinbig-meta CSV (image_id, dim0, dim1: the original '
           'height and width) to rescale the boxes'
           if source == 'vinbig' else
           f'give the {source} images in the frame of their table')
    raise ResizedExportError(
        f'{source} image {image_id!r} is {width} x {height} px, but '
        f'{int(outside[(boxes["image_id"] == image_id).to_numpy()].sum())} '
        f'of its boxes lie outside it (e.g. x0, y0, x1, y1 = {box}), as '
        f'{len(bad)} image(s) do in all: the images look resized while the '
        f'table keeps the original frame. To fix, {fix}; or pass '
        '--max-outside-share 1 to drop such boxes')


def build_tables(selected: SelectedRows,
                 sizes: Mapping[str, tuple[int, int]],
                 size: int = _DEFAULTS.size,
                 test_fraction: float = _DEFAULTS.test_fraction,
                 seed: int = _DEFAULTS.seed,
                 wbf_iou: float = _DEFAULTS.wbf_iou,
                 max_images_per_class: int | None = None,
                 negatives_per_split: int | None = None,
                 box_tolerance: float = _DEFAULTS.box_tolerance,
                 val_fraction: float = _DEFAULTS.val_fraction,
                 train_negative_fraction: float
                 | None = _DEFAULTS.train_negative_fraction,
                 max_outside_share: float = _DEFAULTS.max_outside_share,
                 original_sizes: Mapping[str, tuple[float, float]]
                 | None = None) -> PreparedTables:
    """Stage 2: boxes against image sizes, fusion, split and caps.

    All positive images are split first (grouped, stratified on their
    image labels); the class cap then applies to ``train`` only, so
    ``val`` and ``test`` keep the natural class mix.

    Args:
        selected (SelectedRows): Output of :func:`select_rows`.
        sizes: ``image_id -> (width, height)`` of the source images; box
            rows of an image without a size are dropped as
            ``missing_image``.
        size (int): Output side (0 keeps the original size).
        train_negative_fraction (float, optional): Share of negatives in
            ``train`` (see
            :func:`~cxr_mmdet.data_prep.negatives.train_negatives_for`);
            None keeps all.
        max_outside_share (float): See :func:`check_resized_export`; 1
            never stops.
        original_sizes: VinBig ``image_id -> (width, height)`` of the frame
            of the table (``--vinbig-meta``); boxes are rescaled to
            ``sizes`` first.
        Other arguments: see
            :class:`~cxr_mmdet.data_prep.options.PrepareConfig`.

    Returns:
        PreparedTables: Final boxes, images with their split, report.
    """
    fractions = split_fractions(test_fraction, val_fraction)
    report = json.loads(json.dumps(selected.report))
    boxes = selected.boxes
    parts = []
    for source, table in boxes.groupby('source', sort=True):
        if source == 'vinbig' and original_sizes is not None:
            table = rescale_to_images(table, original_sizes, sizes)
            report['rescaled_from_meta'] = int(
                table['image_id'].isin(set(sizes)).sum())
        check_resized_export(table, sizes, box_tolerance, max_outside_share,
                             source)
        before = table['image_id']
        table, dropped, clipped = fit_boxes_to_images(table, sizes,
                                                      box_tolerance)
        _add(report, 'dropped_rows', source, dropped)
        report['clipped_boxes'][source] = clipped
        missing = set(before[~before.isin(set(sizes))])
        lost = _lost_images(before, table['image_id'])
        _add(report, 'dropped_images', source, {
            'missing_image': len(missing),
            'all_boxes_outside_image': lost - len(missing)
        })
        parts.append(table)
    boxes = pd.concat(parts, ignore_index=True) if parts else boxes
    fused, stats = fuse_radiologist_boxes(boxes, sizes, iou_thr=wbf_iou)
    report['fusion'] = {'iou_thr': wbf_iou, **stats}
    parts = []
    for source, table in fused.groupby('source', sort=True):
        before = table['image_id']
        table, dropped = drop_small_boxes(table, sizes, size)
        _add(report, 'dropped_rows', source, dropped)
        _add(report, 'dropped_images', source, {
            'all_boxes_too_small': _lost_images(before, table['image_id'])
        })
        parts.append(table)
    fused = (pd.concat(parts, ignore_index=True)
             if parts else fused.iloc[:0])

    positives = _image_table(fused, selected.findings)
    positives['split'] = split_by_group(
        positives, CXR_CLASSES, test_fraction, seed,
        val_fraction=val_fraction).to_numpy()
    group_split = dict(zip(positives['group'], positives['split']))
    in_train = (positives['split'] == 'train').to_numpy()
    keep = np.ones(len(positives), dtype=bool)
    keep[in_train] = balance_images(
        positives.loc[in_train, list(CXR_CLASSES)].to_numpy(),
        max_images_per_class,
        seed=seed)
    train = positives[in_train]
    report['balance'] = {
        'split': 'train',
        'max_images_per_class': max_images_per_class,
        'images_before': int(len(train)),
        'images_after': int(keep[in_train].sum()),
        'per_class_images_before': _per_class_images(train),
        'per_class_images_after': _per_class_images(positives[keep
                                                              & in_train]),
    }
    positives = positives[keep].reset_index(drop=True)
    train_cap = None
    if train_negative_fraction is not None:
        train_cap = train_negatives_for(
            int((positives['split'] == 'train').sum()),
            train_negative_fraction)
    negatives = select_negatives(
        selected.negatives,
        fractions,
        negatives_per_split,
        seed=seed,
        group_splits=group_split,
        caps={'train': train_cap})
    negatives = negatives.assign(**{c: 0 for c in CXR_CLASSES})
    report['negatives'] = {
        'available': dict(report['negatives']),
        'per_split_cap': negatives_per_split,
        'train_negative_fraction': train_negative_fraction,
        'train_cap': train_cap,
    }
    images = pd.concat([positives, negatives], ignore_index=True)
    images = images.sort_values('image_id').reset_index(drop=True)
    fused = fused[fused['image_id'].isin(set(positives['image_id']))]
    return PreparedTables(fused.reset_index(drop=True), images, report)


def prepare_tables(tables: Mapping[str, pd.DataFrame],
                   sizes: Mapping[str, tuple[int, int]],
                   label_maps: Mapping[str, Mapping[str, str]] | None = None,
                   read_drops: Mapping[str, Counter] | None = None,
                   nih_findings: pd.DataFrame | None = None,
                   **kwargs) -> PreparedTables:
    """Both table stages for known image sizes (see :func:`build_tables`)."""
    from .summary import summarise_splits
    selected = select_rows(
        tables, label_maps, read_drops, nih_findings=nih_findings)
    prepared = build_tables(selected, sizes, **kwargs)
    prepared.report['splits'] = summarise_splits(prepared.images,
                                                 prepared.boxes)
    return prepared


def empty_splits(images: pd.DataFrame) -> dict[str, int]:
    """``split -> images`` of the splits without a positive image."""
    out = {}
    for split in SPLITS:
        part = images[images['split'] == split]
        if not part[list(CXR_CLASSES)].to_numpy().any():
            out[split] = int(len(part))
    return out
