# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Datasets serving image labels for the sampler tests."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mmengine.dataset import BaseDataset

from cxr_mmdet.classes import CXR_CLASSES, VINBIG_LABEL_MAP


class ImageLabelDataset(BaseDataset):
    """A real mmengine dataset whose samples carry only labels.

    Each image has ``img_labels`` (0/1 per class, like CXRVOCDataset) and
    one instance per label (so ``get_cat_ids`` serves mmdet's
    ``ClassAwareSampler``). ``with_img_labels=False`` leaves ``img_labels``
    out so that samplers must read the instances.
    """

    METAINFO = dict(classes=CXR_CLASSES)

    def __init__(self,
                 img_labels: np.ndarray,
                 with_img_labels: bool = True) -> None:
        self._img_labels = np.asarray(img_labels, dtype=np.uint8)
        self._with_img_labels = with_img_labels
        super().__init__()

    def load_data_list(self) -> list[dict]:
        data_list = []
        for i, row in enumerate(self._img_labels):
            info = dict(
                img_path=f'img{i:05d}.png',
                instances=[
                    dict(
                        bbox=[0., 0., 8., 8.],
                        bbox_label=int(c),
                        ignore_flag=0) for c in np.flatnonzero(row)
                ])
            if self._with_img_labels:
                info['img_labels'] = row.tolist()
            data_list.append(info)
        return data_list

    def get_cat_ids(self, idx: int) -> list[int]:
        return sorted({
            inst['bbox_label']
            for inst in self.get_data_info(idx)['instances']
        })


def vinbig_image_labels() -> np.ndarray:
    """Per VinBig image: the six classes any reader marked, (15000, 6)."""
    try:
        from cxr_mmdet.demo_data.xrv_tables import VINBIG_TABLE, find_xrv_table
        path = find_xrv_table(VINBIG_TABLE)
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(f'VinBig table unavailable: {exc}')
    table = pd.read_csv(path, usecols=['image_id', 'class_name'])
    image_ids = np.sort(table['image_id'].unique())
    mapped = table[table['class_name'].isin(list(VINBIG_LABEL_MAP))]
    rows = np.searchsorted(image_ids, mapped['image_id'].to_numpy())
    cols = mapped['class_name'].map(
        lambda name: CXR_CLASSES.index(VINBIG_LABEL_MAP[name])).to_numpy()
    labels = np.zeros((len(image_ids), len(CXR_CLASSES)), dtype=np.uint8)
    labels[rows, cols] = 1
    return labels


@pytest.fixture(scope='session')
def vinbig_label_dataset() -> ImageLabelDataset:
    return ImageLabelDataset(vinbig_image_labels())


@pytest.fixture
def make_label_dataset():
    """Factory: ``make_label_dataset(img_labels, with_img_labels=True)``."""
    return ImageLabelDataset
