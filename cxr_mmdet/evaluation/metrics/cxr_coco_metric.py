# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""mmdet's CocoMetric without the JSON round trip of its box results, with
labelled-but-boxless classes ignored and per-class AP@.5 keys."""
from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Sequence

import numpy as np
from mmengine.fileio import put_text, register_handler
from mmengine.fileio.handlers import BaseFileHandler

from mmdet.evaluation import CocoMetric
from mmdet.evaluation.metrics import coco_metric as mmdet_coco_metric
from mmdet.registry import METRICS

from ..functional.coco_resampled import coco_ap_resampled, coco_matches
from ..functional.ignored_labels import checked_ignored_labels

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

    Two additions:

    - with ground truth converted from the dataset (``ann_file=None``), a
      data sample's ``ignored_labels`` (metainfo: classes the image is
      labelled with but has no box of) become crowd annotations
      (``iscrowd=1``) covering the whole image, one per class, so
      pycocotools ignores that image's detections of those classes instead
      of counting them as false positives;
    - with ``classwise=True``, ``coco/<class>_precision_50`` holds each
      class's AP at IoU 0.5 (``coco/<class>_precision`` is
      ``CocoMetric``'s AP@[.5:.95]), read from the same COCOeval precision
      array and rounded to 3 decimals like mmdet's per-class figures.

    After each box evaluation, on the rank that computes the metrics, the
    per-image matches of its COCOeval stay: :meth:`resampled` recomputes
    the AP keys for image resamples (the bootstrap of
    :mod:`cxr_mmdet.evaluation.metric_intervals`) and
    :attr:`last_img_ids` names the images.
    """

    _handle: str | None = None
    #: The evaluated COCOeval of the last box evaluation (None before).
    _last_eval = None
    #: maxDets -> coco_matches of _last_eval, made on first use
    _last_matches: dict | None = None

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

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """:meth:`CocoMetric.process`, plus a whole-image crowd annotation
        for each class in a sample's ``ignored_labels``."""
        super().process(data_batch, data_samples)
        if self._coco_api is not None:
            return
        num_classes = len(self.dataset_meta['classes'])
        first = len(self.results) - len(data_samples)
        for k, sample in enumerate(data_samples):
            ignored = sample.get('ignored_labels')
            if ignored is None or len(ignored) == 0:
                continue
            gt, _ = self.results[first + k]
            ignored = checked_ignored_labels(
                ignored, num_classes,
                [a['bbox_label'] for a in gt['anns']],
                sample.get('img_path'))
            whole = [0.0, 0.0, float(gt['width']), float(gt['height'])]
            gt['anns'] = list(gt['anns']) + [
                dict(bbox_label=int(c), bbox=whole, ignore_flag=1)
                for c in ignored
            ]

    def compute_metrics(self, results: list) -> dict:
        """:meth:`CocoMetric.compute_metrics` plus the per-class AP@.5,
        then drop the records."""
        evals: list = []
        name = 'COCOevalMP' if self.use_mp_eval else 'COCOeval'
        base = getattr(mmdet_coco_metric, name)

        class RecordingCOCOeval(base):
            """``CocoMetric`` builds its COCOeval inside ``compute_metrics``
            and keeps no reference: this one keeps itself."""

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                evals.append(self)

        # swapped into mmdet's coco_metric module for this call only
        setattr(mmdet_coco_metric, name, RecordingCOCOeval)
        try:
            eval_results = super().compute_metrics(results)
        finally:
            setattr(mmdet_coco_metric, name, base)
            self._release()
        bbox_evals = [e for e in evals if e.params.iouType == 'bbox'
                      and e.params.useCats and 'precision' in e.eval]
        if self.classwise and bbox_evals:
            eval_results.update(self.ap50_per_class(bbox_evals[-1]))
        self._last_eval = bbox_evals[-1] if bbox_evals else None
        self._last_matches = None
        return eval_results

    @property
    def last_img_ids(self) -> list | None:
        """Image ids of the last box evaluation, in the column order
        :meth:`resampled` takes (None before one)."""
        if self._last_eval is None:
            return None
        return list(self._last_eval.params.imgIds)

    def resampled(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The box AP keys (unprefixed) for image resamples.

        Args:
            weights: (B, N) multiplicity of each image of
                :attr:`last_img_ids` in each resample.

        Returns:
            dict: ``bbox_mAP``, ``bbox_mAP_50`` and ``bbox_mAP_75`` (those
            whose IoU is evaluated), and per class ``<class>_precision``
            and ``<class>_precision_50``: (B,) arrays, unrounded, ``nan``
            where a resample leaves the figure undefined.
        """
        if self._last_eval is None:
            raise ValueError('CXRCocoMetric.resampled needs a box '
                             'evaluation first, got none')
        max_dets = list(self._last_eval.params.maxDets)
        # pycocotools' summary reads AP@[.5:.95] at 100 detections an image,
        # the rest at the largest maxDets
        cut = 100 if 100 in max_dets else max_dets[-1]
        if self._last_matches is None:
            self._last_matches = {
                m: coco_matches(self._last_eval, max_det=m)
                for m in {cut, max_dets[-1]}
            }
        matches = self._last_matches[max_dets[-1]]
        ap = coco_ap_resampled(matches, weights)  # (B, K, T)
        ap_cut = ap if cut == max_dets[-1] else coco_ap_resampled(
            self._last_matches[cut], weights)
        with warnings.catch_warnings():
            # the mean of an all-nan slice (no positive at all) is nan
            warnings.simplefilter('ignore', RuntimeWarning)
            out = {'bbox_mAP': np.nanmean(ap_cut.mean(axis=2), axis=1)}
            for iou, key in ((0.5, 'bbox_mAP_50'), (0.75, 'bbox_mAP_75')):
                at = np.flatnonzero(np.isclose(matches['iou_thrs'], iou))
                if at.size:
                    out[key] = np.nanmean(ap[:, :, at[0]], axis=1)
                    if iou == 0.5:
                        at_50 = at[0]
            for k, cat_id in enumerate(self._last_eval.params.catIds):
                name = self._last_eval.cocoGt.cats[int(cat_id)]['name']
                out[f'{name}_precision'] = ap[:, k].mean(axis=1)
                if 'bbox_mAP_50' in out:
                    out[f'{name}_precision_50'] = ap[:, k, at_50]
        return out

    def ap50_per_class(self, coco_eval) -> dict[str, float]:
        """``<class>_precision_50``: AP at IoU 0.5 per class (all areas,
        the largest maxDets), ``nan`` for a class without boxes; empty when
        0.5 is not among the IoU thresholds."""
        iou_thrs = np.asarray(coco_eval.params.iouThrs)
        at_50 = np.flatnonzero(np.isclose(iou_thrs, 0.5))
        if at_50.size == 0:
            return {}
        # precision: (iou, recall, class, area range, max dets)
        precisions = coco_eval.eval['precision'][at_50[0]]
        out = {}
        for idx, cat_id in enumerate(self.cat_ids):
            name = self._coco_api.loadCats(cat_id)[0]['name']
            precision = precisions[:, idx, 0, -1]
            precision = precision[precision > -1]
            ap = float(np.mean(precision)) if precision.size else float('nan')
            out[f'{name}_precision_50'] = round(ap, 3)
        return out

    def _release(self) -> None:
        if self._handle is not None:
            _RECORDS.pop(self._handle, None)
            self._handle = None
