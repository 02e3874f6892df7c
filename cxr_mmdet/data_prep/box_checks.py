# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Checks of box geometry, against the image and at the output size.

Every function drops rows rather than guessing, and returns a
:class:`collections.Counter` of the dropped rows by reason.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .tables import COORD_COLUMNS

#: Default tolerance for boxes that leave the image, as a fraction of the
#: image side: a coordinate up to 1% outside is clipped, beyond that the box
#: is dropped as ``outside_image``.
DEFAULT_TOLERANCE = 0.01


def check_box_geometry(boxes: pd.DataFrame) -> tuple[pd.DataFrame, Counter]:
    """Drop inverted and zero-area boxes.

    Reasons: ``inverted_box`` (``x1 < x0`` or ``y1 < y0``, e.g. a negative
    NIH width) and ``zero_area_box`` (``x1 == x0`` or ``y1 == y0``).
    """
    x0, y0, x1, y1 = (boxes[c].to_numpy(float) for c in COORD_COLUMNS)
    inverted = (x1 < x0) | (y1 < y0)
    zero = ~inverted & ((x1 == x0) | (y1 == y0))
    dropped = Counter({
        'inverted_box': int(inverted.sum()),
        'zero_area_box': int(zero.sum())
    })
    keep = ~(inverted | zero)
    return boxes[keep].reset_index(drop=True), +dropped


def image_sizes_of(image_ids: pd.Series,
                   sizes: Mapping[str, tuple[int, int]]) -> np.ndarray:
    """Look up ``(width, height)`` per row; NaN where ``sizes`` lacks it.

    Returns:
        np.ndarray: ``(N, 2)`` float array.
    """
    out = np.full((len(image_ids), 2), np.nan)
    for i, image_id in enumerate(image_ids):
        size = sizes.get(image_id)
        if size is not None:
            out[i] = size
    return out


def fit_boxes_to_images(
    boxes: pd.DataFrame,
    sizes: Mapping[str, tuple[int, int]],
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[pd.DataFrame, Counter, int]:
    """Clip boxes slightly outside their image; drop the rest.

    A coordinate may lie up to ``tolerance * side`` outside ``[0, side]``
    and is then clipped onto the edge.

    Args:
        boxes (pd.DataFrame): Box rows.
        sizes: ``image_id -> (width, height)`` of the image files.
        tolerance (float): Fraction of the image side.

    Returns:
        tuple: ``(kept, dropped, clipped)``: kept rows, counter with reasons
        ``missing_image`` (no size known: the image is missing or
        unreadable), ``outside_image`` and ``zero_area_after_clip``, and the
        number of kept rows that were clipped.
    """
    if tolerance < 0:
        raise ValueError(f'tolerance must be >= 0, got {tolerance!r}')
    wh = image_sizes_of(boxes['image_id'], sizes)
    missing = np.isnan(wh[:, 0])
    w = np.where(missing, 1.0, wh[:, 0])
    h = np.where(missing, 1.0, wh[:, 1])
    xy = boxes[list(COORD_COLUMNS)].to_numpy(float)
    low = -tolerance * np.stack([w, h, w, h], axis=1)
    high = (1 + tolerance) * np.stack([w, h, w, h], axis=1)
    outside = ~missing & ((xy < low) | (xy > high)).any(axis=1)
    clipped_xy = np.clip(xy, 0.0, np.stack([w, h, w, h], axis=1))
    zero = ~missing & ~outside & (
        (clipped_xy[:, 2] <= clipped_xy[:, 0]) |
        (clipped_xy[:, 3] <= clipped_xy[:, 1]))
    keep = ~(missing | outside | zero)
    was_clipped = keep & (clipped_xy != xy).any(axis=1)
    kept = boxes[keep].copy()
    kept[list(COORD_COLUMNS)] = clipped_xy[keep]
    dropped = Counter({
        'missing_image': int(missing.sum()),
        'outside_image': int(outside.sum()),
        'zero_area_after_clip': int(zero.sum()),
    })
    return kept.reset_index(drop=True), +dropped, int(was_clipped.sum())


def output_scale(width: np.ndarray, height: np.ndarray,
                 out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(sx, sy)`` factors from image pixels to output pixels.

    ``out_size`` > 0 resizes to ``out_size x out_size`` (the SSD input
    shape, aspect not kept); 0 keeps the original size (factors 1).
    """
    if out_size < 0:
        raise ValueError(f'output size must be >= 0, got {out_size!r}')
    width = np.asarray(width, float)
    height = np.asarray(height, float)
    if out_size == 0:
        return np.ones_like(width), np.ones_like(height)
    return out_size / width, out_size / height


def drop_small_boxes(
    boxes: pd.DataFrame,
    sizes: Mapping[str, tuple[int, int]],
    out_size: int,
    min_side: float = 1.0,
) -> tuple[pd.DataFrame, Counter]:
    """Drop boxes narrower or shorter than ``min_side`` output pixels.

    A box thinner than one pixel of the written image covers no whole
    pixel there: nothing a detector could learn or be scored on. (Only one
    fused VinBig box is this thin at 300 px.) Reason:
    ``smaller_than_1px_at_output_size``.
    """
    wh = image_sizes_of(boxes['image_id'], sizes)
    sx, sy = output_scale(wh[:, 0], wh[:, 1], out_size)
    bw = (boxes['x1'].to_numpy(float) - boxes['x0'].to_numpy(float)) * sx
    bh = (boxes['y1'].to_numpy(float) - boxes['y0'].to_numpy(float)) * sy
    small = (bw < min_side) | (bh < min_side)
    dropped = Counter({'smaller_than_1px_at_output_size': int(small.sum())})
    return boxes[~small].reset_index(drop=True), +dropped
