# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""From the NIH and VinBig tables and images to a VOC dataset.

The table work is pure (frames in, frames and a report out) and runs in two
stages around the only thing it needs from the image files, their sizes:

1. :func:`select_rows`: safe ids, duplicates, ``No finding`` negatives,
   label map, box geometry.
2. :func:`build_tables`: boxes against image sizes (clip or drop), WBF
   fusion, boxes too small for the output size, image labels, balancing,
   the grouped stratified split, negatives per split.

:func:`prepare_tables` runs both for given sizes (tests, benchmark), and
:func:`prepare_dataset` runs the whole job: read tables, read image sizes,
the two stages, convert images, write the VOC tree, ``labels.csv`` and
``summary.json``. Output appears whole or not at all: it is written into a
temporary folder beside ``out`` and renamed at the end. A run killed
midway leaves the previous ``out`` (or none) and its temporary folder; the
next run removes that folder (and, if the kill fell between the two renames
that swap an old ``out`` for the new one, first puts the old ``out`` back).

Output layout::

    out/VOCdevkit/VOC2007/Annotations/<id>.xml
    out/VOCdevkit/VOC2007/JPEGImages/<id>.png
    out/VOCdevkit/VOC2007/ImageSets/Main/{trainval,test}.txt
    out/labels.csv
    out/summary.json

``summary.json`` holds ``arguments``; ``rows_read`` per source;
``dropped_rows`` per source and reason (rows of the tables, except
``smaller_than_1px_at_output_size``, which counts fused boxes);
``unmapped_labels`` per source label; ``rejected_image_ids``;
``clipped_boxes``; ``dropped_images`` per reason; ``fusion`` (boxes in and
out per class, boxes merged from several, images that needed WBF);
``negatives``; ``balance`` (images per class before and after); ``splits``
(per split: images, positive and negative images, images per source,
groups, boxes per class, images per class); ``missing_images``,
``unreadable_images`` and ``images_lost_after_split`` (chosen for a split
but not written: a missing negative or a file that failed to convert);
``recovered_from_interrupted_run`` (see :func:`recover_interrupted_run`).
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES

from .balance import balance_images
from .box_checks import (DEFAULT_TOLERANCE, check_box_geometry,
                         drop_small_boxes, fit_boxes_to_images, output_scale)
from .fusion import fuse_radiologist_boxes
from .image_io import (ConversionJob, ImageIndex, convert_images,
                       read_image_size)
from .label_map import apply_label_map, default_label_maps, load_label_maps
from .negatives import IMAGE_COLUMNS, select_negatives, split_no_finding
from .split import SPLITS, split_by_group
from .tables import (drop_duplicate_rows, read_nih_boxes,
                     read_nih_patient_ids, read_vinbig_rows,
                     reject_unsafe_ids)
from .voc_writer import (ANNOTATIONS, IMAGE_SETS, IMAGES, VOC_ROOT,
                         write_image_sets, write_labels_csv,
                         write_voc_annotation)

COORDINATE_CONVENTION = (
    'VOC 1-based: xmin = x0 + 1, ymin = y0 + 1, xmax = x1 + 1, '
    'ymax = y1 + 1, where (x0, y0, x1, y1) are 0-based pixel-edge '
    'coordinates in the written image')


@dataclass
class PrepareConfig:
    """Settings of one data preparation run (the CLI's arguments)."""
    out: str | None = None
    nih_csv: str | None = None
    nih_data_entry: str | None = None
    nih_images: str | None = None
    vinbig_csv: str | None = None
    vinbig_images: str | None = None
    size: int = 300
    test_fraction: float = 0.2
    seed: int = 0
    wbf_iou: float = 0.4
    max_images_per_class: int | None = None
    negatives_per_split: int | None = None
    box_tolerance: float = DEFAULT_TOLERANCE
    label_map: str | None = None
    workers: int = 1
    overwrite: bool = False
    strict: bool = False
    progress: bool = True

    def validate(self) -> None:
        """Raise ValueError on settings that cannot work."""
        if self.nih_csv is None and self.vinbig_csv is None:
            raise ValueError('give at least one source: --nih-csv or '
                             '--vinbig-csv')
        if self.size < 0:
            raise ValueError(f'--size must be >= 0, got {self.size!r}')
        if not 0.0 <= self.test_fraction < 1.0:
            raise ValueError(f'--test-fraction must be in [0, 1), got '
                             f'{self.test_fraction!r}')
        if not 0.0 <= self.wbf_iou <= 1.0:
            raise ValueError(f'--wbf-iou must be in [0, 1], got '
                             f'{self.wbf_iou!r}')
        for name in ('max_images_per_class', 'negatives_per_split'):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f'--{name.replace("_", "-")} must be >= 0, '
                                 f'got {value!r}')
        if self.workers < 1:
            raise ValueError(f'--workers must be >= 1, got {self.workers!r}')


@dataclass
class SelectedRows:
    """Output of :func:`select_rows`."""
    boxes: pd.DataFrame
    negatives: pd.DataFrame
    report: dict = field(default_factory=dict)


@dataclass
class PreparedTables:
    """Output of :func:`build_tables`: what the VOC writer needs.

    ``boxes``: fused boxes in source-image pixels (columns
    :data:`~cxr_mmdet.data_prep.fusion.FUSED_COLUMNS`). ``images``: one row
    per kept image with ``image_id, file_name, source, group, split`` and a
    0/1 column per class.
    """
    boxes: pd.DataFrame
    images: pd.DataFrame
    report: dict = field(default_factory=dict)


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


def select_rows(tables: Mapping[str, pd.DataFrame],
                label_maps: Mapping[str, Mapping[str, str]] | None = None,
                read_drops: Mapping[str, Counter] | None = None,
                strict: bool = False) -> SelectedRows:
    """Stage 1: the table checks that need no image.

    Args:
        tables: ``source -> box table`` from the readers.
        label_maps: ``source -> {label: class}``; defaults from
            :mod:`cxr_mmdet.classes`.
        read_drops: ``source -> counter`` of rows the readers dropped.
        strict (bool): Raise on an unsafe image id instead of dropping it.

    Returns:
        SelectedRows: mapped box rows (with ``class_name``), the negative
        images and the report so far.
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
    return SelectedRows(boxes, negatives, report)


def _check_id_collisions(boxes: pd.DataFrame,
                         negatives: pd.DataFrame) -> None:
    """Raise if one image id comes from two sources (two files, one name)."""
    pairs = pd.concat([boxes[['image_id', 'source']],
                       negatives[['image_id', 'source']]]).drop_duplicates()
    repeated = pairs['image_id'][pairs['image_id'].duplicated()]
    if len(repeated):
        raise ValueError(f'image ids present in more than one source: '
                         f'{sorted(set(repeated))[:10]!r}')


def _image_table(boxes: pd.DataFrame) -> pd.DataFrame:
    """One row per image of ``boxes`` with a 0/1 column per class."""
    meta = boxes.drop_duplicates('image_id')[list(IMAGE_COLUMNS)]
    if meta.empty:
        return meta.assign(**{c: 0 for c in CXR_CLASSES})
    flags = pd.crosstab(boxes['image_id'], boxes['class_name']) > 0
    flags = flags.reindex(columns=list(CXR_CLASSES), fill_value=False)
    table = meta.set_index('image_id').join(flags.astype(int))
    return table.reset_index().sort_values('image_id').reset_index(
        drop=True)


def _per_class_images(images: pd.DataFrame) -> dict[str, int]:
    return {c: int(images[c].sum()) for c in CXR_CLASSES}


def build_tables(selected: SelectedRows,
                 sizes: Mapping[str, tuple[int, int]],
                 size: int = 300,
                 test_fraction: float = 0.2,
                 seed: int = 0,
                 wbf_iou: float = 0.4,
                 max_images_per_class: int | None = None,
                 negatives_per_split: int | None = None,
                 box_tolerance: float = DEFAULT_TOLERANCE) -> PreparedTables:
    """Stage 2: boxes against image sizes, fusion, balance and split.

    Args:
        selected (SelectedRows): Output of :func:`select_rows`.
        sizes: ``image_id -> (width, height)`` of the source images; box
            rows of an image without a size are dropped as
            ``missing_image``.
        size (int): Output side (0 keeps the original size).
        Other arguments: see :class:`PrepareConfig`.

    Returns:
        PreparedTables: Final boxes, images with their split, report.
    """
    report = json.loads(json.dumps(selected.report))
    boxes = selected.boxes
    parts = []
    for source, table in boxes.groupby('source', sort=True):
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

    positives = _image_table(fused)
    labels = positives[list(CXR_CLASSES)].to_numpy()
    keep = balance_images(labels, max_images_per_class, seed=seed)
    report['balance'] = {
        'max_images_per_class': max_images_per_class,
        'images_before': int(len(positives)),
        'images_after': int(keep.sum()),
        'per_class_images_before': _per_class_images(positives),
        'per_class_images_after': _per_class_images(positives[keep]),
    }
    positives = positives[keep].reset_index(drop=True)
    positives['split'] = split_by_group(positives, CXR_CLASSES,
                                        test_fraction, seed).to_numpy()
    group_split = dict(zip(positives['group'], positives['split']))
    negatives = select_negatives(
        selected.negatives,
        test_fraction,
        negatives_per_split,
        seed=seed,
        group_splits=group_split)
    negatives = negatives.assign(**{c: 0 for c in CXR_CLASSES})
    report['negatives'] = {
        'available': dict(report['negatives']),
        'per_split_cap': negatives_per_split,
    }
    images = pd.concat([positives, negatives], ignore_index=True)
    images = images.sort_values('image_id').reset_index(drop=True)
    fused = fused[fused['image_id'].isin(set(positives['image_id']))]
    return PreparedTables(fused.reset_index(drop=True), images, report)


def prepare_tables(tables: Mapping[str, pd.DataFrame],
                   sizes: Mapping[str, tuple[int, int]],
                   label_maps: Mapping[str, Mapping[str, str]] | None = None,
                   read_drops: Mapping[str, Counter] | None = None,
                   **kwargs) -> PreparedTables:
    """Both table stages for known image sizes (see :func:`build_tables`)."""
    selected = select_rows(tables, label_maps, read_drops)
    prepared = build_tables(selected, sizes, **kwargs)
    prepared.report['splits'] = summarise_splits(prepared.images,
                                                 prepared.boxes)
    return prepared


def summarise_splits(images: pd.DataFrame, boxes: pd.DataFrame) -> dict:
    """Per split: images (positive, negative, per source), groups, and per
    class the boxes and the images."""
    out = {}
    split_of = dict(zip(images['image_id'], images['split']))
    box_split = boxes['image_id'].map(split_of)
    for split in SPLITS:
        part = images[images['split'] == split]
        positive = part[list(CXR_CLASSES)].to_numpy().any(axis=1)
        split_boxes = boxes[box_split == split]
        counts = split_boxes['class_name'].value_counts()
        out[split] = {
            'images': int(len(part)),
            'positive_images': int(positive.sum()),
            'negative_images': int((~positive).sum()),
            'images_per_source': {
                k: int(v)
                for k, v in part['source'].value_counts().sort_index().items()
            },
            'groups': int(part['group'].nunique()),
            'boxes': int(len(split_boxes)),
            'boxes_per_class': {c: int(counts.get(c, 0))
                                for c in CXR_CLASSES},
            'images_per_class': _per_class_images(part),
        }
    return out


# --------------------------------------------------------------------------
# The whole job, with image files.


def _read_sources(config: PrepareConfig) -> tuple[dict, dict]:
    tables, drops = {}, {}
    if config.nih_csv is not None:
        patients = (
            read_nih_patient_ids(config.nih_data_entry)
            if config.nih_data_entry is not None else None)
        tables['nih'], drops['nih'] = read_nih_boxes(config.nih_csv,
                                                     patients)
    if config.vinbig_csv is not None:
        tables['vinbig'], drops['vinbig'] = read_vinbig_rows(
            config.vinbig_csv)
    return tables, drops


def _image_folders(config: PrepareConfig) -> dict[str, ImageIndex]:
    folders = {}
    for source in ('nih', 'vinbig'):
        csv = getattr(config, f'{source}_csv')
        folder = getattr(config, f'{source}_images')
        if csv is not None:
            if folder is None:
                raise ValueError(f'--{source}-csv needs --{source}-images')
            folders[source] = ImageIndex(folder)
    return folders


def _locate(frame: pd.DataFrame, folders: Mapping[str, ImageIndex],
            read_sizes: bool, problems: dict) -> dict:
    """Find each image of ``frame``; read its size if asked.

    Returns ``image_id -> (path, size or None)``; missing and unreadable
    images go into ``problems``.
    """
    found = {}
    rows = frame.drop_duplicates('image_id')
    for image_id, file_name, source in zip(rows['image_id'],
                                           rows['file_name'], rows['source']):
        path = folders[source].find(file_name)
        if path is None:
            problems['missing_images'].append(image_id)
            continue
        size = None
        if read_sizes:
            try:
                size = read_image_size(path)
            except ValueError as err:
                problems['unreadable_images'][image_id] = str(err)
                continue
        found[image_id] = (path, size)
    return found


def _check_paths(config: PrepareConfig) -> Path:
    out = Path(config.out).resolve()
    for name in ('nih_csv', 'nih_data_entry', 'nih_images', 'vinbig_csv',
                 'vinbig_images', 'label_map'):
        value = getattr(config, name)
        if value is None:
            continue
        path = Path(value).resolve()
        if path == out or out in path.parents:
            raise ValueError(f'--out {config.out!r} contains the input '
                             f'--{name.replace("_", "-")} {value!r}; choose '
                             'another output folder')
    if out.exists() and not config.overwrite:
        raise FileExistsError(f'output {os.fspath(out)!r} exists; pass '
                              '--overwrite to replace it')
    if out.exists() and not out.is_dir():
        raise ValueError(f'output {os.fspath(out)!r} is not a folder')
    return out


def _raise_if_strict(config: PrepareConfig, problems: dict) -> None:
    if config.strict and (problems['missing_images']
                          or problems['unreadable_images']):
        missing = problems['missing_images'][:10]
        unreadable = dict(list(problems['unreadable_images'].items())[:5])
        raise ValueError(f'--strict: missing images {missing!r}, unreadable '
                         f'images {unreadable!r}')


def prepare_dataset(config: PrepareConfig) -> dict:
    """Run the whole preparation; return the summary (also written).

    Raises:
        FileExistsError: If ``out`` exists and ``overwrite`` is False.
        ValueError: On bad settings or input (see the readers), and with
            ``strict`` on any missing or unreadable image.
    """
    config.validate()
    recovered = recover_interrupted_run(config.out)
    out = _check_paths(config)
    label_maps = (
        load_label_maps(config.label_map)
        if config.label_map is not None else default_label_maps())
    folders = _image_folders(config)
    tables, drops = _read_sources(config)
    selected = select_rows(tables, label_maps, drops, strict=config.strict)

    problems: dict = {
        'missing_images': [],
        'unreadable_images': {},
        'recovered': recovered
    }
    located = _locate(selected.boxes, folders, True, problems)
    _raise_if_strict(config, problems)
    sizes = {k: v[1] for k, v in located.items()}
    prepared = build_tables(
        selected,
        sizes,
        size=config.size,
        test_fraction=config.test_fraction,
        seed=config.seed,
        wbf_iou=config.wbf_iou,
        max_images_per_class=config.max_images_per_class,
        negatives_per_split=config.negatives_per_split,
        box_tolerance=config.box_tolerance)
    negatives = prepared.images[~prepared.images['image_id'].isin(
        set(located))]
    located.update(_locate(negatives, folders, False, problems))
    _raise_if_strict(config, problems)

    tmp = out.parent / f'.{out.name}.tmp-{os.getpid()}'
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        summary = _write_dataset(tmp, config, prepared, located, sizes,
                                 problems)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def recover_interrupted_run(out: str | os.PathLike) -> list[str]:
    """Clean up after a preparation into ``out`` that was killed.

    Folders ``.<name>.tmp-<pid>`` and ``.<name>.old-<pid>`` beside ``out``
    whose process no longer runs are leftovers: a temporary output is
    removed; an old output is moved back to ``out`` if ``out`` is missing
    (the kill fell between the two renames of :func:`_replace`), else
    removed.

    Returns:
        list[str]: what was done, one line per folder.
    """
    out = Path(out).resolve()
    if not out.parent.is_dir():
        return []
    done = []
    for kind in ('old', 'tmp'):
        for path in sorted(out.parent.glob(f'.{out.name}.{kind}-*')):
            pid = path.name.rsplit('-', 1)[1]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == 'old' and not out.exists():
                path.rename(out)
                done.append(f'restored {os.fspath(out)} from {path.name}')
            else:
                shutil.rmtree(path, ignore_errors=True)
                done.append(f'removed {path.name}')
    return done


def _replace(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``, replacing an old ``out`` at the last step."""
    if out.exists():
        old = out.parent / f'.{out.name}.old-{os.getpid()}'
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)


def _write_dataset(tmp: Path, config: PrepareConfig, prepared: PreparedTables,
                   located: dict, sizes: dict, problems: dict) -> dict:
    voc = tmp / VOC_ROOT
    for sub in (ANNOTATIONS, IMAGES, IMAGE_SETS):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    images = prepared.images[prepared.images['image_id'].isin(set(located))]
    jobs = [
        ConversionJob(image_id, str(located[image_id][0]),
                      str(voc / IMAGES / f'{image_id}.png'), config.size,
                      sizes.get(image_id))
        for image_id in images['image_id']
    ]
    results = convert_images(jobs, config.workers, config.progress)
    done = {}
    for result in results:
        if result.error is None:
            done[result.image_id] = result
        else:
            problems['unreadable_images'][result.image_id] = result.error
    _raise_if_strict(config, problems)
    images = images[images['image_id'].isin(set(done))].reset_index(
        drop=True)
    boxes = prepared.boxes[prepared.boxes['image_id'].isin(set(done))]
    by_image = {k: g for k, g in boxes.groupby('image_id', sort=False)}
    for image_id, source in zip(images['image_id'], images['source']):
        result = done[image_id]
        sx, sy = output_scale(
            np.array([result.width]), np.array([result.height]), config.size)
        rows = by_image.get(image_id)
        objects = [] if rows is None else [
            (name, x0 * sx[0], y0 * sy[0], x1 * sx[0], y1 * sy[0])
            for name, x0, y0, x1, y1 in zip(rows['class_name'], rows['x0'],
                                            rows['y0'], rows['x1'], rows['y1'])
        ]
        write_voc_annotation(voc / ANNOTATIONS / f'{image_id}.xml',
                             f'{image_id}.png', result.out_width,
                             result.out_height, objects, source)
    write_image_sets(
        voc / IMAGE_SETS, {
            split: images.loc[images['split'] == split, 'image_id'].tolist()
            for split in SPLITS
        })
    write_labels_csv(tmp / 'labels.csv', images)
    report = prepared.report
    lost = {i for i in prepared.images['image_id'] if i not in done}
    summary = {
        'arguments': asdict(config),
        'classes': list(CXR_CLASSES),
        'coordinate_convention': COORDINATE_CONVENTION,
        **report,
        'missing_images': sorted(problems['missing_images']),
        'unreadable_images': dict(sorted(
            problems['unreadable_images'].items())),
        'images_lost_after_split': len(lost),
        'recovered_from_interrupted_run': problems.get('recovered', []),
        'splits': summarise_splits(images, boxes),
    }
    with open(tmp / 'summary.json', 'w', encoding='utf-8') as f:
        json.dump(summary, f, indent=2, default=str)
    return summary
