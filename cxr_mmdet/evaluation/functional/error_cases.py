# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The worst errors of a class: its highest-scoring false positives and
its missed lesions, from FROC hits."""
from __future__ import annotations

import numpy as np


def worst_errors(hits: dict, label: int, num: int = 4) -> dict:
    """The ``num`` worst false positives and missed lesions of a class.

    Args:
        hits: ``froc_entries``' output (with image and label keys).
        label: The class index.
        num: Cases of each kind.

    Returns:
        dict: ``false_positives``: (image, score) of the highest-scoring
        false positives, at most one per image; ``missed``: (image, lesion
        index within the image, best score hitting it, ``-inf`` when none)
        of the lesions found last or never.

    Example:
        >>> hits = dict(fp_scores=np.array([0.9, 0.8, 0.4]),
        ...             fp_images=np.array([0, 0, 1]),
        ...             fp_labels=np.array([0, 0, 0]),
        ...             lesion_scores=np.array([0.7, -np.inf]),
        ...             lesion_images=np.array([1, 1]),
        ...             lesion_labels=np.array([0, 0]))
        >>> out = worst_errors(hits, 0, 2)
        >>> out['false_positives'], out['missed'][0]
        ([(0, 0.9), (1, 0.4)], (1, 1, -inf))
    """
    fp = np.flatnonzero(hits['fp_labels'] == label)
    fp = fp[np.argsort(-hits['fp_scores'][fp], kind='stable')]
    false_positives, seen = [], set()
    for e in fp:
        image = int(hits['fp_images'][e])
        if image in seen:
            continue
        seen.add(image)
        false_positives.append((image, float(hits['fp_scores'][e])))
        if len(false_positives) == num:
            break
    images = hits['lesion_images']
    # a lesion's index among its image's lesions (entries run image by image)
    first = np.searchsorted(images, images, side='left')
    lesions = np.flatnonzero(hits['lesion_labels'] == label)
    lesions = lesions[np.argsort(hits['lesion_scores'][lesions],
                                 kind='stable')][:num]
    missed = [(int(images[j]), int(j - first[j]),
               float(hits['lesion_scores'][j])) for j in lesions]
    return dict(false_positives=false_positives, missed=missed)
