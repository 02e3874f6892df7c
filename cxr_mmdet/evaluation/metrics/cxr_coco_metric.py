# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""mmdet's CocoMetric without the JSON round trip of its box results."""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import numpy as np
from mmengine.fileio import put_text, register_handler
from mmengine.fileio.handlers import BaseFileHandler

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS

#: Suffix of a handle file: it names result records held in memory.
RECORDS_SUFFIX = 'cxr_coco_records'
#: Handle -> records, filled by ``CXRCocoMetric.results2json`` and emptied
#: when its ``compute_metrics`` returns.
_RECORDS: dict[str, list] = {}


@register_handler(RECORDS_SUFFIX)
class RecordsHandleHandler(BaseFileHandler):
    """mmengine file handler for ``*.cxr_coco_records`` files: the file
    holds a handle, and loading it returns the records held in this
    process under that handle (what ``CocoMetric`` would have read back
    from its JSON file)."""

    def load_from_fileobj(self, file, **kwargs) -> list:
        handle = file.read().strip()
        if handle not in _RECORDS:
            raise FileNotFoundError(
                f'no COCO result records in memory for handle {handle!r}: '
                'a .cxr_coco_records file is only readable in the process '
                'of the CXRCocoMetric that wrote it, during its evaluation')
        return _RECORDS[handle]

    def dump_to_fileobj(self, obj, file, **kwargs):
        raise NotImplementedError('CXRCocoMetric writes handle files itself')

    def dump_to_str(self, obj, **kwargs):
        raise NotImplementedError('CXRCocoMetric writes handle files itself')


def bbox_results_to_coco(results: Sequence[dict],
                         cat_ids: Sequence[int]) -> list[dict]:
    """Box predictions as COCO result records, as mmdet's ``results2json``
    writes them, converted per image with numpy instead of per box.

    Args:
        results: Per image ``img_id`` (optional: its index otherwise),
            ``bboxes`` (N, 4) ``xyxy``, ``scores`` (N,), ``labels`` (N,).
        cat_ids: COCO category id of each label.

    Returns:
        list[dict]: ``image_id``, ``bbox`` (``xywh``), ``score``,
        ``category_id`` per box, in input order; the numbers are those of
        mmdet's per-box conversion (float64 arithmetic on the stored
        values).
    """
    cat_ids = np.asarray(cat_ids)
    records = []
    for idx, result in enumerate(results):
        image_id = result.get('img_id', idx)
        boxes = np.asarray(result['bboxes']).reshape(-1, 4).astype(np.float64)
        xywh = boxes.copy()
        xywh[:, 2:] -= boxes[:, :2]
        scores = np.asarray(result['scores']).astype(np.float64).tolist()
        cats = cat_ids[np.asarray(result['labels'], dtype=np.int64)].tolist()
        records.extend(
            dict(image_id=image_id, bbox=box, score=score, category_id=cat)
            for box, score, cat in zip(xywh.tolist(), scores, cats))
    return records


@METRICS.register_module()
class CXRCocoMetric(CocoMetric):
    """:class:`~mmdet.evaluation.CocoMetric` without the JSON round trip
    of its box results; every figure is the same
    (``tests/test_evaluation/test_cxr_coco_metric.py``).

    ``CocoMetric`` evaluates through a JSON file of all predictions: one
    dict per box built with per-box Python arithmetic, written with
    ``json.dump`` (CPython's pure-Python encoder), then read back. For
    1,000 images of 200 boxes that was about 3 s of its 10 s. Here:

    - the records are built per image with numpy
      (:func:`bbox_results_to_coco`);
    - with no ``outfile_prefix`` (results in a temporary folder, deleted
      after evaluation) and not ``format_only``, they never touch disk:
      a handle file (``.cxr_coco_records``) names them and mmengine's
      ``load`` returns them through :class:`RecordsHandleHandler`;
    - with ``outfile_prefix`` or ``format_only`` the ``.bbox.json`` file
      is written, byte for byte what ``CocoMetric`` writes, with the C
      JSON encoder.

    Mask results and the proposal metrics use ``CocoMetric``'s own path.
    The metric prefix stays ``coco``.
    """

    _handle: str | None = None

    def results2json(self, results: Sequence[dict],
                     outfile_prefix: str) -> dict:
        """Write the box results (a handle or a ``.bbox.json`` file); see
        :meth:`CocoMetric.results2json`."""
        if (not results or 'masks' in results[0]
                or set(self.metrics) != {'bbox'}):
            return super().results2json(results, outfile_prefix)
        records = bbox_results_to_coco(results, self.cat_ids)
        if self.outfile_prefix is None and not self.format_only:
            self._release()
            self._handle = uuid.uuid4().hex
            _RECORDS[self._handle] = records
            path = f'{outfile_prefix}.bbox.{RECORDS_SUFFIX}'
            with open(path, 'w') as f:
                f.write(self._handle)
        else:
            path = f'{outfile_prefix}.bbox.json'
            put_text(json.dumps(records), path, backend_args=self.backend_args)
        return dict(bbox=path, proposal=path)

    def compute_metrics(self, results: list) -> dict:
        """:meth:`CocoMetric.compute_metrics`, then drop the records."""
        try:
            return super().compute_metrics(results)
        finally:
            self._release()

    def _release(self) -> None:
        if self._handle is not None:
            _RECORDS.pop(self._handle, None)
            self._handle = None
