# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The ``ignored_labels`` of a sample: classes labelled without a box."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def checked_ignored_labels(ignored: Any, num_classes: int,
                           box_labels: Sequence[int],
                           img_path: Any) -> np.ndarray:
    """``ignored`` as an int64 vector, checked against the image's boxes.

    Raises ``ValueError`` naming ``img_path`` when an entry is not a class
    index in ``[0, num_classes)`` or names a class that has a box.

    >>> checked_ignored_labels([2], 6, [0], 'a.png').tolist()
    [2]
    """
    ignored = np.asarray(ignored, dtype=np.int64).reshape(-1)
    if np.any((ignored < 0) | (ignored >= num_classes)):
        raise ValueError(f'ignored_labels of {img_path!r} must be class '
                         f'indices in [0, {num_classes}), got '
                         f'{ignored.tolist()!r}')
    boxed = sorted({int(c) for c in box_labels})
    if np.isin(ignored, boxed).any():
        raise ValueError(f'ignored_labels of {img_path!r} must name classes '
                         f'without a box in it, got {ignored.tolist()!r} '
                         f'with box labels {boxed!r}')
    return ignored
