# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The error gallery of a test run (``error_gallery.json``): per class the
images of its worst false positives and of its missed lesions, with the
boxes the report draws."""
from __future__ import annotations

from typing import Any

import numpy as np

#: The gallery's file in the evaluation's work dir.
ERROR_GALLERY_FILE = 'error_gallery.json'
#: Predictions of the class drawn per case, highest scores first.
PREDICTIONS_DRAWN = 5


def _case(result: dict, label: int, focus: list, score: float,
          classes) -> dict:
    pred = result['pred_labels'] == label
    order = np.argsort(-result['pred_scores'][pred])[:PREDICTIONS_DRAWN]
    return dict(
        img_path=result.get('img_path'),
        img_id=result.get('img_id'),
        score=None if not np.isfinite(score) else round(score, 4),
        focus=[round(float(v), 2) for v in focus],
        ground_truth=[
            dict(bbox=[round(float(v), 2) for v in box],
                 label=classes[int(c)])
            for box, c in zip(result['gt_bboxes'], result['gt_labels'])
        ],
        predictions=[
            dict(bbox=[round(float(v), 2) for v in box],
                 score=round(float(s), 4))
            for box, s in zip(result['pred_bboxes'][pred][order],
                              result['pred_scores'][pred][order])
        ])


def error_gallery(metric: Any, per_class: int = 4) -> dict:
    """Gallery of an evaluated ``CXRROCMetric``.

    Returns:
        dict: class -> ``false_positives`` and ``missed``: per case the
        image (``img_path``, ``img_id``), ``score`` (of the false positive;
        of the best detection hitting the missed lesion, None when none
        does), ``focus`` (that box), all ``ground_truth`` boxes and the
        class's top ``predictions``.
    """
    from ..evaluation.functional.error_cases import worst_errors
    results, hits = metric.last_results, metric.froc_hits()
    classes = metric.class_names
    out = {}
    for c, name in enumerate(classes):
        worst = worst_errors(hits, c, per_class)
        fps = []
        for image, score in worst['false_positives']:
            r = results[image]
            at = np.flatnonzero((r['pred_labels'] == c)
                                & np.isclose(r['pred_scores'], score))
            focus = r['pred_bboxes'][at[0]] if at.size else []
            fps.append(_case(r, c, focus, score, classes))
        missed = []
        for image, lesion, score in worst['missed']:
            r = results[image]
            # froc_entries lists an image's lesions in its box order
            focus = r['gt_bboxes'][lesion]
            missed.append(_case(r, c, focus, score, classes))
        out[name] = dict(false_positives=fps, missed=missed)
    return out
