# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Data preparation: NIH + VinBig tables and images to a VOC dataset.

Pure functions on pandas frames (no torch, no mmdet); the CLI is
``tools/dataset_converters/prepare_data.py``. Modules by job: ``options`` (the settings and
the CLI parser), ``stages`` (the table work), ``pipeline`` (the job with
image files), ``summary`` (``summary.json``); the readers, checks and
writers each in their own.
"""
from .balance import balance_images
from .box_checks import (check_box_geometry, drop_small_boxes,
                         fit_boxes_to_images)
from .fusion import fuse_radiologist_boxes
from .image_io import (ConversionJob, ImageIndex, convert_images,
                       read_image_size, read_image_uint8)
from .label_map import apply_label_map, default_label_maps, load_label_maps
from .negatives import select_negatives, split_no_finding
from .nih_findings import read_nih_data_entry
from .options import PrepareConfig, build_parser, config_from_args
from .pipeline import prepare_dataset
from .split import iterative_stratification, split_by_group
from .stages import build_tables, prepare_tables, select_rows
from .tables import (drop_duplicate_rows, is_safe_image_id, read_nih_boxes,
                     read_nih_patient_ids, read_vinbig_rows)
from .vinbig_meta import read_vinbig_meta
from .voc_writer import voc_annotation, write_voc_annotation

__all__ = [
    'balance_images', 'check_box_geometry', 'drop_small_boxes',
    'fit_boxes_to_images', 'fuse_radiologist_boxes', 'ConversionJob',
    'ImageIndex', 'convert_images', 'read_image_size', 'read_image_uint8',
    'apply_label_map', 'default_label_maps', 'load_label_maps',
    'select_negatives', 'split_no_finding', 'PrepareConfig', 'build_tables',
    'prepare_dataset', 'prepare_tables', 'select_rows',
    'iterative_stratification', 'split_by_group', 'drop_duplicate_rows',
    'is_safe_image_id', 'read_nih_boxes', 'read_nih_patient_ids',
    'read_vinbig_rows', 'voc_annotation', 'write_voc_annotation',
    'build_parser', 'config_from_args', 'read_nih_data_entry',
    'read_vinbig_meta'
]
