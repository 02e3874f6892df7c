# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The settings of one data preparation run, and the CLI made from them.

:class:`PrepareConfig` holds every option once: its default, its help text
and its range. :func:`build_parser` turns the fields into the argparse
parser of ``tools/dataset_converters/prepare_data.py`` and :func:`config_from_args` turns the
parsed arguments back into a config, so the tool restates nothing.
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields

from .box_checks import DEFAULT_TOLERANCE

#: Default share of training images without findings: the
#: ``neg_fraction`` of the main config's ``CXRBalancedSampler``. With this
#: many negatives in ``train`` the sampler draws each about once an epoch.
DEFAULT_TRAIN_NEGATIVE_FRACTION = 0.1

#: Default largest share of an image's boxes that may lie outside it
#: (beyond the tolerance) before prep stops: more than half is the mark of
#: a resized export whose table is still in the original frame, while a
#: stray box among others is dropped and counted (``outside_image``).
DEFAULT_MAX_OUTSIDE_SHARE = 0.5


def _opt(default, help: str, kind=None, flag: str | None = None,
         low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False,
         group: str | None = None):
    """A config field with its CLI help, argparse type and range."""
    return field(
        default=default,
        metadata=dict(
            help=help, kind=kind, flag=flag, low=low, high=high,
            low_open=low_open, high_open=high_open, group=group))


_SOURCES = 'sources (give NIH, VinBig or both)'


@dataclass
class PrepareConfig:
    """Settings of one data preparation run (the CLI's arguments)."""
    out: str | None = _opt(None, 'output folder', str)
    nih_csv: str | None = _opt(
        None, 'NIH BBox_List_2017.csv(.gz)', str, group=_SOURCES)
    nih_data_entry: str | None = _opt(
        None, 'NIH Data_Entry_2017*.csv(.gz): patient ids and the image '
        'labels ("Finding Labels"); without it the patient is the number '
        'before "_" in the file name and the labels come from the boxes',
        str, group=_SOURCES)
    nih_images: str | None = _opt(
        None, 'folder of NIH PNGs (searched recursively)', str,
        group=_SOURCES)
    vinbig_csv: str | None = _opt(
        None, 'VinBigData train.csv(.gz)', str, group=_SOURCES)
    vinbig_images: str | None = _opt(
        None, 'folder of VinBig images: <image_id>.png/.jpg/.dicom/.dcm',
        str, group=_SOURCES)
    vinbig_meta: str | None = _opt(
        None, 'CSV with image_id, dim0, dim1 (original height and width) '
        'of resized VinBig exports: the train.csv boxes are rescaled from '
        'that frame to the image at hand', str, group=_SOURCES)
    size: int = _opt(
        300, 'output side in pixels (square); 0 keeps the original size',
        int, low=0)
    test_fraction: float = _opt(
        0.2, 'share of the images (by patient / image group) in the test '
        'split, the one the figures are reported on', float, low=0.0,
        high=1.0, low_open=True, high_open=True)
    val_fraction: float = _opt(
        0.1, 'share of the images in the val split (checkpoint selection, '
        'LR plateau)', float, low=0.0, high=1.0, low_open=True,
        high_open=True)
    seed: int = _opt(0, 'random seed of the split and every sample', int,
                     low=0)
    wbf_iou: float = _opt(
        0.4, 'IoU threshold of Weighted Box Fusion across radiologists',
        float, low=0.0, high=1.0)
    max_images_per_class: int | None = _opt(
        None, 'cap frequent classes at N images in train (rare classes '
        'are kept whole; val and test keep the natural mix); default: no '
        'cap', int, low=0)
    train_negative_fraction: float = _opt(
        DEFAULT_TRAIN_NEGATIVE_FRACTION,
        'share of "No finding" images in train (the sampler\'s '
        'neg_fraction); val and test keep all of theirs', float, low=0.0,
        high=1.0, high_open=True)
    negatives_per_split: int | None = _opt(
        None, 'keep at most N "No finding" images in each split; default: '
        'no cap', int, low=0)
    box_tolerance: float = _opt(
        DEFAULT_TOLERANCE, 'boxes up to this fraction of the image side '
        'outside the image are clipped; beyond it they are dropped', float,
        low=0.0, high=1.0)
    max_outside_share: float = _opt(
        DEFAULT_MAX_OUTSIDE_SHARE, 'stop when more than this share of an '
        "image's boxes lie outside it (a resized export: see "
        '--vinbig-meta); 1 drops such boxes instead', float, low=0.0,
        high=1.0)
    label_map: str | None = _opt(
        None, 'JSON {"nih": {label: class}, "vinbig": {...}} replacing the '
        'default map of each source it names', str)
    workers: int = _opt(1, 'image conversion processes', int, low=1)
    overwrite: bool = _opt(
        False, 'replace an existing --out written by this tool (or empty)')
    strict: bool = _opt(
        False, 'fail on a missing or unreadable image or an unsafe image '
        'id instead of skipping and listing it')
    progress: bool = _opt(True, 'hide the progress bar', flag='--no-progress')

    def validate(self) -> None:
        """Raise ValueError on settings that cannot work, naming the
        option and its value."""
        if self.nih_csv is None and self.vinbig_csv is None:
            raise ValueError('give at least one source: --nih-csv or '
                             '--vinbig-csv')
        for f in fields(self):
            meta = f.metadata
            value = getattr(self, f.name)
            if meta.get('kind') not in (int, float) or value is None:
                continue
            _check_number(_flag(f.name), value, meta)
        if self.test_fraction + self.val_fraction >= 1.0:
            raise ValueError(
                f'--test-fraction {self.test_fraction!r} + --val-fraction '
                f'{self.val_fraction!r} must be < 1, so that train keeps '
                'images')
        if self.vinbig_meta is not None and self.vinbig_csv is None:
            raise ValueError('--vinbig-meta needs --vinbig-csv')


def _flag(name: str) -> str:
    return '--' + name.replace('_', '-')


def _check_number(flag: str, value, meta: dict) -> None:
    kind = meta['kind']
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{flag} must be a number, got {value!r}')
    if kind is int and not float(value).is_integer():
        raise ValueError(f'{flag} must be a whole number, got {value!r}')
    if not math.isfinite(value):
        raise ValueError(f'{flag} must be a finite number, got {value!r}')
    low, high = meta.get('low'), meta.get('high')
    too_low = low is not None and (value <= low
                                   if meta['low_open'] else value < low)
    too_high = high is not None and (value >= high
                                     if meta['high_open'] else value > high)
    if too_low or too_high:
        left = '(' if meta['low_open'] else '['
        right = ')' if meta['high_open'] else ']'
        span = (f'in {left}{low}, {high}{right}' if high is not None else
                f'{">" if meta["low_open"] else ">="} {low}')
        raise ValueError(f'{flag} must be {span}, got {value!r}')


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``tools/dataset_converters/prepare_data.py``, from the fields."""
    parser = argparse.ArgumentParser(
        description='Prepare the NIH + VinBig six-class VOC dataset.')
    groups: dict = {}
    for f in fields(PrepareConfig):
        meta = f.metadata
        target = parser
        if meta.get('group'):
            target = groups.setdefault(
                meta['group'], parser.add_argument_group(meta['group']))
        flag = meta.get('flag') or _flag(f.name)
        default = f.default if f.default is not MISSING else None
        if meta.get('kind') is None:  # a switch
            action = 'store_false' if default else 'store_true'
            target.add_argument(
                flag, dest=f.name, action=action, help=meta['help'])
            continue
        help_text = meta['help']
        if default is not None:
            help_text += f' (default: {default})'
        target.add_argument(
            flag, dest=f.name, type=meta['kind'], default=default,
            required=f.name == 'out', help=help_text)
    return parser


def config_from_args(args: argparse.Namespace | Sequence[str] | None = None
                     ) -> PrepareConfig:
    """A :class:`PrepareConfig` from parsed arguments or an argv list."""
    if not isinstance(args, argparse.Namespace):
        args = build_parser().parse_args(args)
    return PrepareConfig(**{f.name: getattr(args, f.name)
                            for f in fields(PrepareConfig)})
