# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fuse the boxes of several radiologists with Weighted Box Fusion.

VinBigData has three readers per image. Per image and class, each reader's
boxes form one input list of :func:`ensemble_boxes.weighted_boxes_fusion`,
coordinates normalised by the image size. WBF clusters boxes whose IoU with
a cluster's fused box exceeds ``iou_thr`` and averages each cluster, so
separate lesions of one class in one image stay separate boxes.

Speed: a box alone in its (image, class) group, or in a group where no two
boxes overlap by more than ``iou_thr``, is a cluster of its own and WBF
would return it unchanged; such groups are passed through vectorised and
WBF runs only on the images that hold an overlapping pair (one call per
image, classes as WBF labels, which WBF fuses separately).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from ensemble_boxes import weighted_boxes_fusion

from cxr_mmdet.classes import CXR_CLASSES

from .tables import COORD_COLUMNS

FUSED_COLUMNS: tuple[str, ...] = ('image_id', 'file_name', 'source', 'group',
                                  'class_name', 'x0', 'y0', 'x1', 'y1',
                                  'n_boxes')


def pairwise_overlap_groups(boxes: pd.DataFrame, key: np.ndarray,
                            iou_thr: float) -> np.ndarray:
    """Return the group keys that hold two boxes with IoU > ``iou_thr``.

    Args:
        boxes (pd.DataFrame): Rows with ``x0, y0, x1, y1``.
        key (np.ndarray): ``(N,)`` integer group key per row.
        iou_thr (float): IoU threshold (strictly greater matches, as in
            WBF).

    Returns:
        np.ndarray: Sorted unique keys of overlapping groups.
    """
    frame = pd.DataFrame({'key': key, 'row': np.arange(len(key))})
    pairs = frame.merge(frame, on='key', suffixes=('_a', '_b'))
    pairs = pairs[pairs['row_a'] < pairs['row_b']]
    if pairs.empty:
        return np.empty(0, dtype=key.dtype)
    xy = boxes[list(COORD_COLUMNS)].to_numpy(float)
    a = xy[pairs['row_a'].to_numpy()]
    b = xy[pairs['row_b'].to_numpy()]
    iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]),
                 0, None)
    ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]),
                 0, None)
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / (area_a + area_b - inter)
    return np.unique(pairs['key'].to_numpy()[iou > iou_thr])


def _runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop indices of the runs of equal values in ``codes``."""
    if len(codes) == 0:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    return starts, np.r_[starts[1:], len(codes)]


def _fuse_image(xy: np.ndarray, readers: np.ndarray, labels: np.ndarray,
                width: float, height: float, iou_thr: float,
                skip_box_thr: float) -> tuple[np.ndarray, np.ndarray,
                                              np.ndarray]:
    """Run WBF on the boxes of one image.

    Args:
        xy (np.ndarray): ``(N, 4)`` pixel boxes, sorted by reader.
        readers (np.ndarray): ``(N,)`` reader codes (sorted).
        labels (np.ndarray): ``(N,)`` class indices.

    Returns:
        tuple: ``(boxes (M, 4) pixels, labels (M,), n_boxes (M,))``.
    """
    scale = np.array([width, height, width, height])
    norm = xy / scale
    starts, stops = _runs(readers)
    boxes_list = [norm[a:b] for a, b in zip(starts, stops)]
    scores_list = [np.ones(b - a) for a, b in zip(starts, stops)]
    labels_list = [labels[a:b] for a, b in zip(starts, stops)]
    fused, scores, fused_labels = weighted_boxes_fusion(
        boxes_list,
        scores_list,
        labels_list,
        iou_thr=iou_thr,
        skip_box_thr=skip_box_thr,
        conf_type='avg',
        allows_overflow=True)
    # With all scores 1 and allows_overflow, score = cluster size / lists.
    n_boxes = np.rint(np.asarray(scores) * len(boxes_list)).astype(int)
    fused = np.asarray(fused, float).reshape(-1, 4) * scale
    return fused, np.asarray(fused_labels).astype(int), n_boxes


def fuse_radiologist_boxes(
    boxes: pd.DataFrame,
    sizes: Mapping[str, tuple[int, int]],
    iou_thr: float = 0.4,
    skip_box_thr: float = 0.0,
    fuse_sources: Iterable[str] = ('vinbig', ),
) -> tuple[pd.DataFrame, dict]:
    """Fuse the readers' boxes per image and class.

    Args:
        boxes (pd.DataFrame): Mapped box rows (``class_name``, ``reader``,
            coordinates within the image).
        sizes: ``image_id -> (width, height)`` for every image in ``boxes``.
        iou_thr (float): WBF match threshold (IoU strictly above it).
        skip_box_thr (float): WBF score threshold (all scores are 1).
        fuse_sources: Sources with several readers; rows of other sources
            (NIH: one reader) pass through unchanged.

    Returns:
        tuple: The fused table (:data:`FUSED_COLUMNS`; ``n_boxes`` is the
        number of input boxes in each output box) and statistics
        ``{'boxes_in', 'boxes_out', 'merged_boxes', 'wbf_images'}``.
    """
    if not 0.0 <= iou_thr <= 1.0:
        raise ValueError(f'WBF IoU threshold must be in [0, 1], got '
                         f'{iou_thr!r}')
    class_index = {name: i for i, name in enumerate(CXR_CLASSES)}
    fuse_sources = tuple(fuse_sources)
    to_fuse = boxes['source'].isin(fuse_sources).to_numpy()
    keep_cols = [c for c in FUSED_COLUMNS if c != 'n_boxes']
    passed = [boxes.loc[~to_fuse, keep_cols].assign(n_boxes=1)]
    rows = boxes[to_fuse].sort_values(
        ['image_id', 'class_name', 'reader', *COORD_COLUMNS], kind='stable')
    rows = rows.reset_index(drop=True)
    key = rows.groupby(['image_id', 'class_name'], sort=False).ngroup()
    key = key.to_numpy()
    need = np.isin(key, pairwise_overlap_groups(rows, key, iou_thr))
    passed.append(rows.loc[~need, keep_cols].assign(n_boxes=1))

    wbf = rows[need].reset_index(drop=True)
    xy = wbf[list(COORD_COLUMNS)].to_numpy(float)
    readers = pd.factorize(wbf['reader'], sort=True)[0]
    labels = wbf['class_name'].map(class_index).to_numpy(int)
    image_ids = wbf['image_id'].to_numpy()
    # Rows are sorted by image, class, reader: re-sort each image by reader.
    order = np.lexsort((np.arange(len(wbf)), readers,
                        pd.factorize(image_ids)[0]))
    xy, readers, labels = xy[order], readers[order], labels[order]
    image_rows = wbf.iloc[order].reset_index(drop=True)
    codes = pd.factorize(image_rows['image_id'])[0]
    starts, stops = _runs(codes)
    fused_parts = []
    for a, b in zip(starts, stops):
        image_id = image_rows.at[a, 'image_id']
        width, height = sizes[image_id]
        boxes_px, labs, n_boxes = _fuse_image(xy[a:b], readers[a:b],
                                              labels[a:b], width, height,
                                              iou_thr, skip_box_thr)
        fused_parts.append((a, boxes_px, labs, n_boxes))
    wbf_images = len(fused_parts)
    fused_rows = _assemble(image_rows, fused_parts)
    passed.append(fused_rows)
    parts = [p for p in passed if len(p)]
    out = (pd.concat(parts, ignore_index=True)
           if parts else pd.DataFrame(columns=list(FUSED_COLUMNS)))
    out = out.sort_values(['image_id', 'class_name', 'x0', 'y0'],
                          kind='stable').reset_index(drop=True)
    out['n_boxes'] = out['n_boxes'].astype(int)
    stats = {
        'boxes_in': _per_class(boxes['class_name']),
        'boxes_out': _per_class(out['class_name']),
        'merged_boxes': _per_class(out.loc[out['n_boxes'] > 1, 'class_name']),
        'wbf_images': wbf_images,
    }
    return out, stats


def _assemble(image_rows: pd.DataFrame, parts: list[tuple]) -> pd.DataFrame:
    """Build the fused table from per-image WBF outputs."""
    if not parts:
        return pd.DataFrame(columns=list(FUSED_COLUMNS))
    first = np.concatenate([np.full(len(p[2]), p[0]) for p in parts])
    meta = image_rows.loc[first, ['image_id', 'file_name', 'source', 'group']]
    xy = np.concatenate([p[1] for p in parts])
    labels = np.concatenate([p[2] for p in parts])
    frame = meta.reset_index(drop=True).assign(
        class_name=np.asarray(CXR_CLASSES, dtype=object)[labels],
        x0=xy[:, 0],
        y0=xy[:, 1],
        x1=xy[:, 2],
        y1=xy[:, 3],
        n_boxes=np.concatenate([p[3] for p in parts]))
    return frame


def _per_class(names: pd.Series) -> dict[str, int]:
    counts = names.value_counts()
    return {c: int(counts.get(c, 0)) for c in CXR_CLASSES}
