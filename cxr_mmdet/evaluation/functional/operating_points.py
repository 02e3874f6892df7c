# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Per-class score thresholds for deployment, chosen on one split and
checked on another.

From FROC hits (:func:`~cxr_mmdet.evaluation.functional.froc.froc_entries`:
the highest score hitting each lesion, the scores of the false positives,
with their classes), a detection being kept when its ``score >=
threshold``:

- ``sens<NN>``: the highest threshold whose lesion sensitivity reaches the
  target (``sens90``: 0.9); unreachable (``threshold`` None) when fewer
  lesions than that are ever found;
- ``fp<R>``: the lowest threshold keeping at most the target false
  positives per image (``fp1``: 1).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def operating_point_names(target_sensitivity: float = 0.9,
                          target_fp_per_image: float = 1.0) -> tuple:
    """``('sens90', 'fp1')`` for the default targets.

    >>> operating_point_names(0.8, 0.5)
    ('sens80', 'fp0.5')
    """
    return (f'sens{round(target_sensitivity * 100):d}',
            f'fp{target_fp_per_image:g}')


def choose_operating_points(entries: dict,
                            class_names: Sequence[str],
                            target_sensitivity: float = 0.9,
                            target_fp_per_image: float = 1.0) -> dict:
    """Per class, the thresholds of the two targets and what they reach.

    Args:
        entries: ``froc_entries``' output (with the label keys).
        class_names: C class names, in label order.
        target_sensitivity: Lesion sensitivity to reach, in (0, 1].
        target_fp_per_image: False positives per image to keep under, > 0.

    Returns:
        dict: class -> point name -> ``threshold`` (None: unreachable),
        ``sensitivity``, ``fp_per_image``, ``target``; classes without a
        lesion have no ``sens`` point.

    Example:
        >>> e = dict(lesion_scores=np.array([0.9, 0.5]),
        ...          lesion_labels=np.array([0, 0]), fp_scores=np.array([0.7]),
        ...          fp_labels=np.array([0]), num_images=1)
        >>> point = choose_operating_points(e, ['A'], 0.5, 1)['A']['sens50']
        >>> point['threshold'], point['sensitivity'], point['fp_per_image']
        (0.9, 0.5, 0.0)
    """
    if not 0 < target_sensitivity <= 1:
        raise ValueError('target_sensitivity must lie in (0, 1], got '
                         f'{target_sensitivity!r}')
    if not target_fp_per_image > 0:
        raise ValueError('target_fp_per_image must be positive, got '
                         f'{target_fp_per_image!r}')
    sens_name, fp_name = operating_point_names(target_sensitivity,
                                               target_fp_per_image)
    out = {}
    for c, name in enumerate(class_names):
        lesions = np.sort(entries['lesion_scores'][entries['lesion_labels']
                                                   == c])[::-1]
        fps = np.sort(entries['fp_scores'][entries['fp_labels'] == c])[::-1]
        points = {}
        if lesions.size:
            need = math.ceil(target_sensitivity * lesions.size - 1e-9)
            score = lesions[need - 1]
            threshold = float(score) if np.isfinite(score) else None
            points[sens_name] = dict(threshold=threshold,
                                     target=float(target_sensitivity))
        allowed = int(math.floor(target_fp_per_image *
                                 entries['num_images'] + 1e-9))
        # keep all (0) when the FPs fit, else just above the first FP over
        threshold = 0.0 if fps.size <= allowed else float(
            np.nextafter(fps[allowed], np.inf))
        points[fp_name] = dict(threshold=threshold,
                               target=float(target_fp_per_image))
        for point in points.values():
            point.update(
                achieved_at(entries, c, point['threshold']))
            point['target'] = point.pop('target')
        out[name] = points
    return out


def achieved_at(entries: dict, label: int,
                threshold: float | None) -> dict:
    """Lesion sensitivity and FPs per image of class ``label`` when its
    detections with ``score >= threshold`` are kept (None: none kept).

    >>> e = dict(lesion_scores=np.array([0.9, -np.inf]),
    ...          lesion_labels=np.array([0, 0]), fp_scores=np.array([0.7]),
    ...          fp_labels=np.array([0]), num_images=2)
    >>> achieved_at(e, 0, 0.5)
    {'sensitivity': 0.5, 'fp_per_image': 0.5}
    """
    lesions = entries['lesion_scores'][entries['lesion_labels'] == label]
    fps = entries['fp_scores'][entries['fp_labels'] == label]
    t = np.inf if threshold is None else threshold
    return dict(
        sensitivity=float((lesions >= t).mean()) if lesions.size else None,
        fp_per_image=float((fps >= t).sum() / entries['num_images']))
