# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Render synthetic chest radiographs with class-coded lesions.

Pure numpy: an image is a ``float32`` array of shape (H, W) in [0, 1]
(1 = bright = dense, as on a displayed radiograph). Each of the six classes
has one appearance that differs clearly from the others, so that a small
detector trained for minutes learns them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.evaluation.functional import box_iou

#: Appearance of each class inside its box: a filled bright ellipse; a
#: bright elliptical ring with a dark band inside; vertical stripes; a dark
#: rectangle with a bright rim; a small bright disc in a dark halo;
#: horizontal stripes. The dark bands keep a bright lesion visible where
#: it lies on another (a nodule on a cardiomegaly ellipse).
LESION_STYLES: dict[str, str] = {
    'Cardiomegaly': 'bright_ellipse',
    'Pleural thickening': 'ring',
    'Pulmonary fibrosis': 'vertical_stripes',
    'Pleural effusion': 'dark_square',
    'Nodule/Mass': 'bright_disc',
    'Infiltration': 'horizontal_stripes',
}

#: Grey levels of the anatomy and the lesions (0 black, 1 white).
AIR, BODY, LUNG, HEART, SPINE = 0.04, 0.52, 0.20, 0.58, 0.62
BRIGHT, DARK = 1.0, 0.02
#: How much a lesion replaces what lies below it.
LESION_ALPHA = 0.92
#: Styles that fill their whole box. Where one is painted over another
#: lesion it takes only this share of its usual weight, so that both stay
#: visible: two readers' findings of different classes often share one
#: box (fibrosis and infiltration, effusion and thickening), and a full
#: overpaint would hide one of them completely.
FILL_STYLES = frozenset({'vertical_stripes', 'horizontal_stripes',
                         'dark_square'})
OVERLAP_SHARE = 0.5


@dataclass(frozen=True)
class Lesion:
    """A lesion to draw: its class and box ``(x1, y1, x2, y2)`` in pixels.

    Pixel ``(col, row)`` covers ``[col, col + 1) x [row, row + 1)``.
    """
    class_name: str
    box: tuple[float, float, float, float]


def default_stripe_period(height: int, width: int) -> int:
    """Stripe period in pixels for an image size (8 px at 512)."""
    return max(4, int(round(max(height, width) / 64)))


def _soft_ellipse(height: int, width: int, cx: float, cy: float,
                  ax: float, ay: float, edge: float) -> np.ndarray:
    """(H, W) mask: 1 inside an ellipse, 0 outside, ``edge`` wide ramp.

    Centre and semi-axes are fractions of the image width/height; only
    the ellipse's bounding rectangle is computed.
    """
    mask = np.zeros((height, width), dtype=np.float32)
    r0, r1 = (max(0, int((cy - ay) * height)),
              min(height, int(np.ceil((cy + ay) * height)) + 1))
    c0, c1 = (max(0, int((cx - ax) * width)),
              min(width, int(np.ceil((cx + ax) * width)) + 1))
    if r1 <= r0 or c1 <= c0:
        return mask
    yy = ((np.arange(r0, r1, dtype=np.float32) + 0.5) / height)[:, None]
    xx = ((np.arange(c0, c1, dtype=np.float32) + 0.5) / width)[None, :]
    r = np.sqrt(((xx - cx) / ax)**2 + ((yy - cy) / ay)**2)
    mask[r0:r1, c0:c1] = np.clip((1.0 - r) / edge, 0.0, 1.0)
    return mask


def _hat_basis(size: int) -> np.ndarray:
    """(size, 4) linear-interpolation weights of 4 knots spread over size."""
    t = np.linspace(0.0, 3.0, size, dtype=np.float32)[:, None]
    return np.maximum(0.0, 1.0 - np.abs(t - np.arange(4, dtype=np.float32)))


def _blend(image: np.ndarray, mask: np.ndarray, value) -> np.ndarray:
    """``image`` moved towards ``value`` by ``mask`` (in [0, 1])."""
    return image + (value - image) * mask


def render_anatomy(height: int, width: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Draw a noiseless frontal chest: body, lungs, ribs, spine, heart.

    Args:
        height, width: image size in pixels.
        rng: source of the per-image anatomical variation.

    Returns:
        np.ndarray: float32 (H, W) in [0, 1].
    """
    if height < 8 or width < 8:
        raise ValueError(f'image must be at least 8x8, got {width}x{height}')
    u = rng.uniform(-1.0, 1.0, size=12).tolist()
    yy = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]
    xx = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, :]
    cx = 0.5 + 0.02 * u[0]
    img = np.full((height, width), AIR, dtype=np.float32)
    body = _soft_ellipse(height, width, cx, 0.58 + 0.02 * u[1],
                         0.46 + 0.03 * u[2], 0.62, 0.06)
    img = _blend(img, body, BODY + 0.04 * u[3])
    lungs = np.zeros_like(img)
    for side in (-1.0, 1.0):
        lungs = np.maximum(
            lungs,
            _soft_ellipse(height, width, cx + side * (0.19 + 0.015 * u[4]),
                          0.46 + 0.02 * u[5], 0.14 + 0.015 * u[6],
                          0.31 + 0.02 * u[7], 0.15))
    # rib-like bands, curved downwards away from the spine
    period = 0.085 + 0.01 * u[8]
    phase = (yy - 0.9 * (xx - cx)**2) / period + u[9]
    ribs = ((0.5 + 0.5 * np.cos(2 * np.pi * phase))**6).astype(np.float32)
    img = _blend(img, lungs, LUNG + 0.16 * ribs)
    spine = np.clip(1.0 - np.abs(xx - cx) / 0.035, 0.0, 1.0) * body
    img = _blend(img, np.minimum(spine * 1.5, 1.0), SPINE)
    heart = _soft_ellipse(height, width, cx + 0.06 + 0.02 * u[10],
                          0.64 + 0.02 * u[11], 0.15, 0.12, 0.25)
    img = _blend(img, heart, HEART)
    # slow exposure variation over the whole film
    grid = rng.uniform(-1.0, 1.0, size=(4, 4)).astype(np.float32)
    slow = _hat_basis(height) @ grid @ _hat_basis(width).T
    img += 0.04 * slow.astype(np.float32)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _box_pixels(box: tuple[float, float, float, float], height: int,
                width: int) -> tuple[int, int, int, int]:
    """Integer pixel bounds ``(c0, r0, c1, r1)`` (exclusive ends)."""
    x1, y1, x2, y2 = box
    c0 = min(max(int(np.floor(x1)), 0), width - 1)
    r0 = min(max(int(np.floor(y1)), 0), height - 1)
    c1 = max(min(int(np.ceil(x2)), width), c0 + 1)
    r1 = max(min(int(np.ceil(y2)), height), r0 + 1)
    return c0, r0, c1, r1


def lesion_pattern(style: str, box: tuple[float, float, float, float],
                   height: int, width: int, stripe_period: int
                   ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """Where and how one lesion paints.

    Returns:
        tuple: ``(region, mask, value)``; ``region`` slices the image,
        ``mask`` (in [0, 1]) and ``value`` have the region's shape.
    """
    x1, y1, x2, y2 = box
    if not (x2 > x1 and y2 > y1):
        raise ValueError(f'lesion box must have x2 > x1 and y2 > y1, got '
                         f'{box!r}')
    c0, r0, c1, r1 = _box_pixels(box, height, width)
    region = (slice(r0, r1), slice(c0, c1))
    ys = (np.arange(r0, r1, dtype=np.float32) + 0.5)[:, None]
    xs = (np.arange(c0, c1, dtype=np.float32) + 0.5)[None, :]
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    hw, hh = max((x2 - x1) / 2, 0.5), max((y2 - y1) / 2, 0.5)
    shape = (r1 - r0, c1 - c0)
    ones = np.ones(shape, dtype=np.float32)
    inside = ((xs >= x1 - 0.5) & (xs <= x2 + 0.5) & (ys >= y1 - 0.5) &
              (ys <= y2 + 0.5)) * ones
    if style == 'bright_ellipse':
        r = np.sqrt(((xs - cx) / hw)**2 + ((ys - cy) / hh)**2)
        return region, (r <= 1.0) * ones, BRIGHT * ones
    if style == 'ring':
        # a bright band with a dark band inside it: visible on any ground
        thick = max(2.0, 0.2 * min(hw, hh))
        r_out = np.sqrt(((xs - cx) / hw)**2 + ((ys - cy) / hh)**2)
        r_mid = np.sqrt(((xs - cx) / max(hw - thick, 0.5))**2 +
                        ((ys - cy) / max(hh - thick, 0.5))**2)
        r_in = np.sqrt(((xs - cx) / max(hw - 1.6 * thick, 0.5))**2 +
                       ((ys - cy) / max(hh - 1.6 * thick, 0.5))**2)
        band = (r_out <= 1.0) & (r_in >= 1.0)
        return (region, band * ones,
                np.where(r_mid >= 1.0, BRIGHT, DARK) * ones)
    if style in ('vertical_stripes', 'horizontal_stripes'):
        half = stripe_period / 2
        offset = (xs - c0) if style == 'vertical_stripes' else (ys - r0)
        bright = (np.floor(offset / half) % 2 == 0) * ones
        return region, inside, DARK + (BRIGHT - DARK) * bright
    if style == 'dark_square':
        border = max(1.0, 0.06 * min(x2 - x1, y2 - y1))
        edge = np.minimum(np.minimum(xs - x1, x2 - xs),
                          np.minimum(ys - y1, y2 - ys))
        return region, inside, np.where(edge < border, BRIGHT, DARK) * ones
    if style == 'bright_disc':
        # a bright disc in a dark halo: visible on a bright ground too
        radius = max(1.5, 0.55 * min(hw, hh))
        halo = max(radius + 1.0, 0.95 * min(hw, hh))
        r = np.sqrt((xs - cx)**2 + (ys - cy)**2)
        return (region, (r <= halo) * ones,
                np.where(r <= radius, BRIGHT, DARK) * ones)
    raise ValueError(f'unknown lesion style, got {style!r}; expected one of '
                     f'{sorted(set(LESION_STYLES.values()))!r}')


def paint_lesions(image: np.ndarray, lesions: list[Lesion],
                  stripe_period: int | None = None) -> np.ndarray:
    """Return a copy of ``image`` with ``lesions`` painted, largest first.

    Largest first so that a small lesion inside a large one (a nodule on
    the heart shadow) stays visible; a box-filling style painted over an
    earlier lesion is blended at :data:`OVERLAP_SHARE` there, so that
    lesions of different classes sharing one box both show.
    """
    height, width = image.shape
    period = stripe_period or default_stripe_period(height, width)
    out = image.copy()
    covered = np.zeros_like(out)
    order = sorted(
        lesions,
        key=lambda les: -(les.box[2] - les.box[0]) * (les.box[3] - les.box[1]))
    for lesion in order:
        if lesion.class_name not in LESION_STYLES:
            raise ValueError(f'no lesion style for class, got '
                             f'{lesion.class_name!r}; expected one of '
                             f'{list(CXR_CLASSES)!r}')
        style = LESION_STYLES[lesion.class_name]
        region, mask, value = lesion_pattern(style, lesion.box, height,
                                             width, period)
        weight = LESION_ALPHA * mask
        if style in FILL_STYLES:
            weight = weight * (1.0 - OVERLAP_SHARE * covered[region])
        out[region] = _blend(out[region], weight, value)
        covered[region] = np.maximum(covered[region], mask)
    return out


def render_radiograph(height: int, width: int, lesions: list[Lesion],
                      rng: np.random.Generator,
                      noise_std: float = 0.03) -> np.ndarray:
    """Render a chest radiograph with ``lesions``: float32 (H, W) in [0, 1].

    The random draws do not depend on ``lesions``: the same ``rng`` state
    with and without lesions gives images that differ only inside boxes.
    """
    anatomy = render_anatomy(height, width, rng)
    noise = rng.standard_normal((height, width), dtype=np.float32)
    image = paint_lesions(anatomy, lesions) + np.float32(noise_std) * noise
    return np.clip(image, 0.0, 1.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] image to uint8 (what a PNG stores)."""
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def to_dicom_pixels(image: np.ndarray, photometric: str,
                    bits_stored: int = 12
                    ) -> tuple[np.ndarray, float, float]:
    """Map a [0, 1] image to DICOM stored values and a VOI window.

    Displayed brightness ``v`` is stored as ``lo + v (hi - lo)`` for
    ``MONOCHROME2`` and inverted (``hi - v (hi - lo)``) for
    ``MONOCHROME1``, with ``lo, hi`` 1/16 inside the ``bits_stored``
    range. The VOI LUT window (centre, width) maps ``[lo, hi]`` onto the
    full output range, so windowing (then inverting MONOCHROME1) gives
    ``v`` back.

    Returns:
        tuple: uint16 (H, W) stored values, window centre, window width.
    """
    if photometric not in ('MONOCHROME1', 'MONOCHROME2'):
        raise ValueError('photometric must be MONOCHROME1 or MONOCHROME2, '
                         f'got {photometric!r}')
    if not 8 < bits_stored <= 16:
        raise ValueError(f'bits_stored must be in 9..16, got {bits_stored!r}')
    top = 2**bits_stored - 1
    lo, hi = round(top / 16), round(top * 15 / 16)
    v = np.clip(image, 0.0, 1.0).astype(np.float64)
    if photometric == 'MONOCHROME1':
        v = 1.0 - v
    stored = np.round(lo + v * (hi - lo)).astype(np.uint16)
    # DICOM LINEAR VOI (PS3.3 C.11.2.1.2) maps c - 0.5 -+ (w - 1) / 2 to
    # the output's ends: these c, w send lo to black and hi to white
    return stored, (lo + hi) / 2 + 0.5, float(hi - lo + 1)


def merge_reader_boxes(boxes: list[tuple[float, float, float, float]],
                       iou_thr: float = 0.4
                       ) -> list[tuple[float, float, float, float]]:
    """Group one class's boxes from several readers into lesions.

    Greedy, in order: a box joins the group whose mean box it overlaps
    most if that IoU is > ``iou_thr`` (the way WBF clusters; data prep
    fuses with WBF at 0.4 by default), else starts a group. Returns each
    group's mean box, in group order.

    >>> merge_reader_boxes([(0, 0, 10, 10), (1, 1, 11, 11), (50, 50, 60, 60)])
    [(0.5, 0.5, 10.5, 10.5), (50.0, 50.0, 60.0, 60.0)]
    """
    groups: list[list[tuple[float, ...]]] = []
    means: list[tuple[float, ...]] = []
    for box in boxes:
        box = tuple(float(v) for v in box)
        best = -1
        if means:
            ious = box_iou([box], means)[0]
            if ious.max() > iou_thr:
                best = int(np.argmax(ious))  # the first of the best
        if best < 0:
            groups.append([box])
            means.append(box)
        else:
            groups[best].append(box)
            means[best] = tuple(
                float(np.mean([g[i] for g in groups[best]])) for i in range(4))
    return [tuple(m) for m in means]
