# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""NIH image-level labels: ``Data_Entry_2017``'s ``Finding Labels``.

The NIH box list covers only some findings of an image; ``Data_Entry``
names all of them (``Cardiomegaly|Effusion``). Data preparation maps them
through the NIH label map and ORs them with the image's box labels, so an
image labelled ``Effusion`` without an effusion box still counts as
positive for ``Pleural effusion`` (and its evaluation ignores detections of
that class there, see :mod:`cxr_mmdet.datasets.cxr_voc`).
"""
from __future__ import annotations

import os

import pandas as pd

from .tables import (NIH_ID_COLUMN, NIH_PATIENT_COLUMN, _nih_patient_ids,
                     _read_csv_as_text, strip_image_extension)

NIH_FINDINGS_COLUMN = 'Finding Labels'
#: ``Data_Entry``'s label of an image without findings.
NIH_NO_FINDING = 'No Finding'


def read_nih_data_entry(
        path: str | os.PathLike) -> tuple[dict[str, str], pd.DataFrame]:
    """Read patient ids and findings from ``Data_Entry_2017*.csv``.

    Returns:
        tuple: ``Image Index -> Patient ID`` and a frame of the findings,
        one row per image and source label (columns ``image_id``,
        ``label``; ``No Finding`` left out).

    Raises:
        ValueError: If the file lacks ``Image Index``, ``Patient ID`` or
            ``Finding Labels`` (naming the file and its columns).
    """
    frame = _read_csv_as_text(
        path, (NIH_ID_COLUMN, NIH_PATIENT_COLUMN, NIH_FINDINGS_COLUMN))
    patient_ids = _nih_patient_ids(frame)
    names = frame[NIH_ID_COLUMN].str.strip()
    labels = frame.loc[names != '', NIH_FINDINGS_COLUMN].str.split('|')
    pairs = pd.DataFrame({
        'image_id': names[names != ''].map(strip_image_extension),
        'label': labels
    }).explode('label')
    pairs['label'] = pairs['label'].astype(str).str.strip()
    pairs = pairs[(pairs['label'] != '') & (pairs['label'] != NIH_NO_FINDING)
                  & (pairs['label'] != 'nan')]
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    return patient_ids, pairs
