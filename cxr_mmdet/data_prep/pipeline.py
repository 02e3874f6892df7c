# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The whole data preparation job: tables and images to a VOC dataset.

:func:`prepare_dataset` checks the options and the output folder, takes
the output's lock, reads the tables, checks that every split will hold
images, reads the image sizes, runs the table stages
(:mod:`~cxr_mmdet.data_prep.stages`), converts the images, and writes the
VOC tree, ``labels.csv`` and ``summary.json``
(:mod:`~cxr_mmdet.data_prep.summary`). Output appears whole or not at all:
it is written into a temporary folder beside ``out`` and swapped in at the
end (:mod:`cxr_mmdet.utils.atomic_io`). A run killed midway leaves the
previous ``out`` (or none) and its temporary folder; the next run removes
that folder (and, if the kill fell between the two renames that swap an
old ``out`` for the new one, first puts the old ``out`` back).

Output layout::

    out/VOCdevkit/VOC2007/Annotations/<id>.xml
    out/VOCdevkit/VOC2007/JPEGImages/<id>.png
    out/VOCdevkit/VOC2007/ImageSets/Main/{train,val,test,trainval}.txt
    out/labels.csv
    out/summary.json

Each XML holds the image's boxes and ``<image_labels>``: every class the
image is labelled with (its boxes OR, for NIH, ``Data_Entry``'s ``Finding
Labels``). ``labels.csv`` holds the same labels.

``summary.json`` holds ``generator``; ``arguments``; ``rows_read`` per
source; ``dropped_rows`` per source and reason (rows of the tables, except
``smaller_than_1px_at_output_size``, which counts fused boxes);
``unmapped_labels`` per source label; ``rejected_image_ids``;
``clipped_boxes``; ``dropped_images`` per reason; ``fusion`` (boxes in and
out per class, boxes merged from several, images that needed WBF);
``negatives``; ``balance`` (train images per class before and after the
cap); ``image_labels`` (image-class pairs labelled without a box);
``splits`` (per split: images, positive and negative images, images per
source, groups, boxes per class, images per class, labels without boxes
per class); ``missing_images``, ``unreadable_images`` and
``images_lost_after_split`` (chosen for a split but not written: a missing
negative or a file that failed to convert);
``recovered_from_interrupted_run`` (see :func:`recover_interrupted_run`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.utils.atomic_io import (folder_lock, recover_interrupted_swap,
                                       replace_folder, temporary_folder)

from .box_checks import output_scale
from .image_io import (ConversionJob, ImageIndex, convert_images,
                       read_image_size)
from .label_map import default_label_maps, load_label_maps
from .nih_findings import read_nih_data_entry
from .options import PrepareConfig
from .split import SPLITS, split_by_group
from .stages import (PreparedTables, SelectedRows, _image_table,
                     build_tables, empty_splits, prepare_tables, select_rows)
from .summary import (is_prepared_output, labels_without_boxes,
                      summarise_splits, write_summary)
from .tables import read_nih_boxes, read_vinbig_rows
from .vinbig_meta import read_vinbig_meta
from .voc_writer import (ANNOTATIONS, IMAGE_SETS, IMAGES, VOC_ROOT,
                         write_image_sets, write_labels_csv,
                         write_voc_annotation)

__all__ = [
    'PrepareConfig', 'PreparedTables', 'SelectedRows', 'build_tables',
    'prepare_dataset', 'prepare_tables', 'recover_interrupted_run',
    'select_rows', 'summarise_splits'
]

COORDINATE_CONVENTION = (
    'VOC 1-based: xmin = x0 + 1, ymin = y0 + 1, xmax = x1 + 1, '
    'ymax = y1 + 1, where (x0, y0, x1, y1) are 0-based pixel-edge '
    'coordinates in the written image')

#: Clean-up after a killed run (see :mod:`cxr_mmdet.utils.atomic_io`).
recover_interrupted_run = recover_interrupted_swap


def _read_sources(config: PrepareConfig) -> tuple[dict, dict, object]:
    tables, drops, findings = {}, {}, None
    if config.nih_csv is not None:
        patients = None
        if config.nih_data_entry is not None:
            patients, findings = read_nih_data_entry(config.nih_data_entry)
        tables['nih'], drops['nih'] = read_nih_boxes(config.nih_csv,
                                                     patients)
    if config.vinbig_csv is not None:
        tables['vinbig'], drops['vinbig'] = read_vinbig_rows(
            config.vinbig_csv)
    return tables, drops, findings


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
    """Refuse an output that holds an input, that exists without
    ``--overwrite``, or that is not this tool's (nor empty)."""
    out = Path(config.out).resolve()
    for name in ('nih_csv', 'nih_data_entry', 'nih_images', 'vinbig_csv',
                 'vinbig_images', 'vinbig_meta', 'label_map'):
        value = getattr(config, name)
        if value is None:
            continue
        path = Path(value).resolve()
        if path == out or out in path.parents:
            raise ValueError(f'--out {config.out!r} contains the input '
                             f'--{name.replace("_", "-")} {value!r}; choose '
                             'another output folder')
    if not out.exists():
        return out
    if not config.overwrite:
        raise FileExistsError(f'output {os.fspath(out)!r} exists; pass '
                              '--overwrite to replace it')
    if not out.is_dir():
        raise ValueError(f'output {os.fspath(out)!r} is not a folder')
    if any(out.iterdir()) and not is_prepared_output(out):
        raise ValueError(
            f'--overwrite refused: {os.fspath(out)!r} is not a dataset '
            'written by this tool (no summary.json of it, or files it does '
            'not write) and not empty; remove it yourself or choose another '
            '--out')
    return out


def _make_parent(out: Path) -> None:
    """Create ``out``'s parent; fail now if it cannot be written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f'cannot create the folder of --out '
                         f'{os.fspath(out.parent)!r}: {err.strerror}') from err
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise ValueError(f'the folder of --out {os.fspath(out.parent)!r} is '
                         'not writable')


def _split_error(config: PrepareConfig, empty: Mapping[str, int],
                 when: str) -> ValueError:
    names = ', '.join(f'{k!r} ({v} images, none with a finding)'
                      for k, v in empty.items())
    options = (f'--test-fraction {config.test_fraction} --val-fraction '
               f'{config.val_fraction} --seed {config.seed}')
    if config.max_images_per_class is not None:
        options += f' --max-images-per-class {config.max_images_per_class}'
    return ValueError(
        f'{when}, the splits {names} would hold no positive image with '
        f'{options}: training and evaluation need boxes in train, val and '
        'test; raise the fractions or give more data')


def _check_splits_from_tables(config: PrepareConfig,
                              selected: SelectedRows) -> None:
    """Before any image is read: would a split be empty?"""
    images = _image_table(selected.boxes, selected.findings)
    images['split'] = split_by_group(
        images, CXR_CLASSES, config.test_fraction, config.seed,
        val_fraction=config.val_fraction).to_numpy()
    empty = empty_splits(images)
    if empty:
        raise _split_error(config, empty, 'from the tables alone')


def prepare_dataset(config: PrepareConfig) -> dict:
    """Run the whole preparation; return the summary (also written).

    Raises:
        FileExistsError: If ``out`` exists and ``overwrite`` is False.
        FolderLockedError: If another run is writing ``out``.
        ValueError: On bad settings or input (see the readers), an
            ``--overwrite`` of a folder this tool did not write, an
            unwritable output folder, a split left without positive
            images, a resized export (see
            :func:`~cxr_mmdet.data_prep.stages.check_resized_export`), and
            with ``strict`` on any missing or unreadable image.
    """
    config.validate()
    out = _check_paths(config)
    _make_parent(out)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(folder_lock(out))
        except PermissionError as err:
            raise ValueError(
                f'cannot write beside --out in {os.fspath(out.parent)!r}: '
                f'{err.strerror}') from err
        return _prepare_locked(config, out)


def _prepare_locked(config: PrepareConfig, out: Path) -> dict:
    recovered = recover_interrupted_run(out)
    out = _check_paths(config)
    label_maps = (
        load_label_maps(config.label_map)
        if config.label_map is not None else default_label_maps())
    original_sizes = (
        read_vinbig_meta(config.vinbig_meta)
        if config.vinbig_meta is not None else None)
    folders = _image_folders(config)
    tables, drops, findings = _read_sources(config)
    selected = select_rows(
        tables, label_maps, drops, strict=config.strict,
        nih_findings=findings)
    _check_splits_from_tables(config, selected)

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
        val_fraction=config.val_fraction,
        seed=config.seed,
        wbf_iou=config.wbf_iou,
        max_images_per_class=config.max_images_per_class,
        negatives_per_split=config.negatives_per_split,
        train_negative_fraction=config.train_negative_fraction,
        box_tolerance=config.box_tolerance,
        max_outside_share=config.max_outside_share,
        original_sizes=original_sizes)
    empty = empty_splits(prepared.images)
    if empty:
        raise _split_error(config, empty, 'after the box checks')
    negatives = prepared.images[~prepared.images['image_id'].isin(
        set(located))]
    located.update(_locate(negatives, folders, False, problems))
    _raise_if_strict(config, problems)

    tmp = temporary_folder(out)
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        summary = _write_dataset(tmp, config, prepared, located, sizes,
                                 problems)
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _raise_if_strict(config: PrepareConfig, problems: dict) -> None:
    if config.strict and (problems['missing_images']
                          or problems['unreadable_images']):
        missing = problems['missing_images'][:10]
        unreadable = dict(list(problems['unreadable_images'].items())[:5])
        raise ValueError(f'--strict: missing images {missing!r}, unreadable '
                         f'images {unreadable!r}')


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
    flags = images.set_index('image_id')[list(CXR_CLASSES)].to_numpy()
    image_labels = {
        image_id: [c for c, on in zip(CXR_CLASSES, row) if on]
        for image_id, row in zip(images['image_id'], flags)
    }
    for image_id, source, group in zip(images['image_id'], images['source'],
                                       images['group']):
        result = done[image_id]
        sx, sy = output_scale(
            np.array([result.width]), np.array([result.height]), config.size)
        rows = by_image.get(image_id)
        objects = [] if rows is None else [
            (name, x0 * sx[0], y0 * sy[0], x1 * sx[0], y1 * sy[0])
            for name, x0, y0, x1, y1 in zip(rows['class_name'], rows['x0'],
                                            rows['y0'], rows['x1'], rows['y1'])
        ]
        write_voc_annotation(
            voc / ANNOTATIONS / f'{image_id}.xml',
            f'{image_id}.png',
            result.out_width,
            result.out_height,
            objects,
            source,
            image_labels=image_labels[image_id],
            group=group)
    write_image_sets(
        voc / IMAGE_SETS, {
            split: images.loc[images['split'] == split, 'image_id'].tolist()
            for split in SPLITS
        })
    write_labels_csv(tmp / 'labels.csv', images)
    report = prepared.report
    lost = {i for i in prepared.images['image_id'] if i not in done}
    boxless = labels_without_boxes(images, boxes)
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
        'image_labels': {
            'nih_data_entry': config.nih_data_entry is not None,
            'image_class_pairs_without_boxes': int(boxless.to_numpy().sum()),
            'images_with_labels_without_boxes': int(
                boxless.to_numpy().any(axis=1).sum()),
            'labels_without_boxes_per_class': {
                c: int(boxless[c].sum())
                for c in CXR_CLASSES
            },
        },
        'splits': summarise_splits(images, boxes),
    }
    write_summary(tmp, summary)
    return {'generator': 'cxr_mmdet.data_prep', **summary}
