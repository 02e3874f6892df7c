# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image-level ROC/AUC per class and lesion-level FROC of a detector."""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from sklearn.metrics import roc_auc_score, roc_curve

from mmdet.registry import METRICS
from cxr_mmdet.classes import CXR_CLASSES, class_key
from ..functional import FROC_FP_RATES, froc_score, image_class_scores
from ..functional.auc_resampled import auc_resampled
from ..functional.froc import froc_entries
from ..functional.froc_resampled import froc_resampled


def _get(sample: Any, key: str) -> Any:
    """``key`` of a data sample given as a dict (what mmengine's Evaluator
    passes, metainfo keys at the top) or as a ``DetDataSample``."""
    if isinstance(sample, dict):
        return sample.get(key)
    value = getattr(sample, key, None)
    if value is None and hasattr(sample, 'metainfo'):
        value = sample.metainfo.get(key)
    return value


def _keys(sample: Any) -> list[str]:
    if isinstance(sample, dict):
        return list(sample)
    return list(getattr(sample, 'keys', lambda: [])())


def _to_numpy(value: Any, dtype=None) -> np.ndarray:
    """Tensor, mmdet box type, list or array -> numpy array."""
    if hasattr(value, 'tensor') and not isinstance(value, np.ndarray):
        value = value.tensor  # HorizontalBoxes
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def _instances(sample: Any,
               key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(bboxes (K, 4), labels (K,), scores (K,) or None) of
    ``pred_instances`` / ``gt_instances``; empty when absent."""
    inst = _get(sample, key)
    if inst is None:
        return np.zeros((0, 4)), np.zeros(0, np.int64), None

    def field(name):
        return inst.get(name) if isinstance(inst, dict) else getattr(
            inst, name, None)

    bboxes, labels, scores = field('bboxes'), field('labels'), field('scores')
    bboxes = np.zeros((0, 4)) if bboxes is None else _to_numpy(
        bboxes, np.float64).reshape(-1, 4)
    labels = np.zeros(0, np.int64) if labels is None else _to_numpy(
        labels, np.int64).reshape(-1)
    if scores is not None:
        scores = _to_numpy(scores, np.float64).reshape(-1)
    return bboxes, labels, scores


@METRICS.register_module()
class CXRROCMetric(BaseMetric):
    """Per-class image-level AUC, their mean, and lesion FROC.

    The image-level score of class c is the highest score of a class-c
    detection in the image (0 if none); it is ranked against the image's
    ``img_labels`` (six 0/1 flags, from the data sample's metainfo) to give
    ``cxr/AUC_<class>`` (``cxr_mmdet.classes.class_key`` names, e.g.
    ``cxr/AUC_Nodule_Mass``) and ``cxr/mAUC``, the mean over the classes
    that have both positive and negative images. A class without both has
    no AUC: its key is left out and a warning names it (never 0.5).

    ``cxr/FROC`` is the mean lesion sensitivity at ``fp_rates`` false
    positives per image (``cxr/FROC@<rate>`` each), a detection hitting a
    ``gt_instances`` box of its class at IoU >= ``iou_thr``, repeat hits
    ignored, as LUNA16 counts (see
    :mod:`cxr_mmdet.evaluation.functional.froc`). Detections of a class in
    the sample's ``ignored_labels`` (metainfo: labelled in the image, no box
    of it) are left out of FROC; the image-level AUC uses ``img_labels``,
    the complete truth. Both need the predictions rescaled to the frame of
    the ground truth (mmdet's test pipeline does so).

    After each evaluation, on the rank that computes the metrics,
    :attr:`last_curves` maps each class with an AUC to its ROC curve
    (``fpr``, ``tpr``, ``thresholds``, ``auc``, ``num_pos``, ``num_neg``),
    :attr:`last_missing` each class without one to its counts and
    :attr:`last_froc` holds the FROC details; ``ROCCurveHook`` writes them.

    Args:
        iou_thr: Minimum IoU of a FROC hit. Defaults to 0.4.
        fp_rates: FPs per image read on the FROC curve.
        collect_device: ``'cpu'`` or ``'gpu'``, for collecting results
            across ranks.
        prefix: Metric key prefix. Defaults to ``'cxr'``.
    """

    default_prefix: str | None = 'cxr'

    def __init__(self,
                 iou_thr: float = 0.4,
                 fp_rates: Sequence[float] = FROC_FP_RATES,
                 collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0 < iou_thr <= 1:
            raise ValueError(f'iou_thr must lie in (0, 1], got {iou_thr!r}')
        if len(fp_rates) == 0 or any(r <= 0 for r in fp_rates):
            raise ValueError(f'fp_rates must be positive, got {fp_rates!r}')
        self.iou_thr = float(iou_thr)
        self.fp_rates = tuple(float(r) for r in fp_rates)
        self.last_curves: dict[str, dict] | None = None
        self.last_missing: dict[str, dict] = {}
        self.last_froc: dict | None = None
        self.last_img_ids: list | None = None
        self._last_results: list | None = None
        self._last_entries: dict | None = None

    @property
    def class_names(self) -> tuple[str, ...]:
        """``dataset_meta['classes']`` when set, else the six CXR classes."""
        meta = self.dataset_meta or {}
        classes = meta.get('classes')
        return tuple(classes) if classes else CXR_CLASSES

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Keep, per image, its score vector, ``img_labels`` and the boxes
        FROC needs (numpy, small)."""
        num_classes = len(self.class_names)
        for sample in data_samples:
            pred_bboxes, pred_labels, pred_scores = _instances(
                sample, 'pred_instances')
            if pred_scores is None:
                raise ValueError('CXRROCMetric needs pred_instances.scores, '
                                 f'got keys {sorted(_keys(sample))!r} for '
                                 f'{_get(sample, "img_path")!r}')
            gt_bboxes, gt_labels, _ = _instances(sample, 'gt_instances')
            img_labels = _get(sample, 'img_labels')
            derived = img_labels is None
            if derived:
                # images without the key (not a CXRVOCDataset): derive the
                # flags from the boxes, and say so at compute time
                img_labels = np.zeros(num_classes, np.int64)
                img_labels[gt_labels[(gt_labels >= 0)
                                     & (gt_labels < num_classes)]] = 1
            img_labels = _to_numpy(img_labels).reshape(-1)
            ignored = _get(sample, 'ignored_labels')
            ignored = np.zeros(0, np.int16) if ignored is None else \
                _to_numpy(ignored, np.int64).reshape(-1).astype(np.int16)
            if img_labels.shape[0] != num_classes or not np.all(
                (img_labels == 0) | (img_labels == 1)):
                raise ValueError(
                    f'img_labels of {_get(sample, "img_path")!r} must be '
                    f'{num_classes} flags of 0/1, got {img_labels!r}')
            self.results.append(
                dict(
                    scores=image_class_scores(pred_labels, pred_scores,
                                              num_classes),
                    img_labels=img_labels.astype(np.int8),
                    pred_bboxes=pred_bboxes.astype(np.float32),
                    pred_scores=pred_scores.astype(np.float32),
                    pred_labels=pred_labels.astype(np.int16),
                    gt_bboxes=gt_bboxes.astype(np.float32),
                    gt_labels=gt_labels.astype(np.int16),
                    ignored_labels=ignored,
                    derived_labels=derived,
                    img_id=_get(sample, 'img_id'),
                    img_path=_get(sample, 'img_path')))

    @staticmethod
    def calculate(scores: np.ndarray,
                  targets: np.ndarray,
                  class_names: Sequence[str],
                  pred_bboxes: Sequence[np.ndarray] | None = None,
                  pred_scores: Sequence[np.ndarray] | None = None,
                  pred_labels: Sequence[np.ndarray] | None = None,
                  gt_bboxes: Sequence[np.ndarray] | None = None,
                  gt_labels: Sequence[np.ndarray] | None = None,
                  iou_thr: float = 0.4,
                  fp_rates: Sequence[float] = FROC_FP_RATES,
                  ignored_labels: Sequence | None = None) -> dict:
        """All metrics from stacked per-image results.

        Args:
            scores: (N, C) image-level class scores.
            targets: (N, C) 0/1 image labels.
            class_names: C class names.
            pred_bboxes, pred_scores, pred_labels, gt_bboxes, gt_labels:
                N per-image arrays for FROC (skipped when None).
            iou_thr: Minimum IoU of a FROC hit.
            fp_rates: FPs per image of the FROC reading.
            ignored_labels: N per-image class lists whose detections FROC
                drops (None: none).

        Returns:
            dict with ``metrics`` (ordered, unprefixed keys ``AUC_<key>``,
            ``mAUC``, ``FROC``, ``FROC@<rate>``; absent when undefined),
            ``curves`` (class -> fpr/tpr/thresholds/auc/num_pos/num_neg),
            ``missing`` (class -> num_pos/num_neg) and ``froc`` (details or
            None).

        Example:
            >>> out = CXRROCMetric.calculate(
            ...     np.array([[0.9, 0.1], [0.2, 0.3], [0.6, 0.0]]),
            ...     np.array([[1, 0], [0, 0], [0, 0]]), ['A', 'B/C'])
            >>> dict(out['metrics'])
            {'AUC_A': 1.0, 'mAUC': 1.0}
            >>> out['missing']
            {'B/C': {'num_pos': 0, 'num_neg': 3}}
        """
        scores = np.asarray(scores, dtype=np.float64)
        targets = np.asarray(targets)
        if scores.ndim != 2 or scores.shape != targets.shape or \
                scores.shape[1] != len(class_names):
            raise ValueError(
                f'scores and targets must both be (N, {len(class_names)}), '
                f'got {scores.shape!r} and {targets.shape!r}')
        metrics: OrderedDict[str, float] = OrderedDict()
        curves, missing = {}, {}
        for c, name in enumerate(class_names):
            num_pos = int(targets[:, c].sum())
            num_neg = int(targets.shape[0] - num_pos)
            if num_pos == 0 or num_neg == 0:
                missing[name] = dict(num_pos=num_pos, num_neg=num_neg)
                continue
            auc = float(roc_auc_score(targets[:, c], scores[:, c]))
            fpr, tpr, thr = roc_curve(targets[:, c], scores[:, c])
            curves[name] = dict(
                fpr=fpr,
                tpr=tpr,
                thresholds=thr,
                auc=auc,
                num_pos=num_pos,
                num_neg=num_neg)
            metrics[f'AUC_{class_key(name)}'] = auc
        if curves:
            metrics['mAUC'] = float(
                np.mean([c['auc'] for c in curves.values()]))
        froc = None
        if pred_bboxes is not None and scores.shape[0] > 0:
            froc = froc_score(pred_bboxes, pred_scores, pred_labels, gt_bboxes,
                              gt_labels, fp_rates, iou_thr, ignored_labels)
            if froc['num_lesions'] > 0:
                metrics['FROC'] = froc['froc']
                for rate, sens in zip(froc['fp_rates'], froc['sensitivities']):
                    metrics[f'FROC@{rate:g}'] = float(sens)
        return dict(metrics=metrics, curves=curves, missing=missing, froc=froc)

    def compute_metrics(self, results: list) -> dict[str, float]:
        """Stack the per-image results (all ranks) and compute."""
        logger = MMLogger.get_current_instance()
        names = self.class_names
        if not results:
            logger.warning('CXRROCMetric: no image was evaluated')
            self.last_curves, self.last_missing, self.last_froc = {}, {}, None
            self.last_img_ids = self._last_results = None
            return {}
        num_derived = sum(bool(r['derived_labels']) for r in results)
        if num_derived:
            logger.warning(
                f'CXRROCMetric: {num_derived} of {len(results)} data samples '
                'had no "img_labels" in their metainfo; their image labels '
                'were derived from gt_instances')
        out = self.calculate(
            np.stack([r['scores'] for r in results]),
            np.stack([r['img_labels'] for r in results]), names,
            [r['pred_bboxes']
             for r in results], [r['pred_scores'] for r in results],
            [r['pred_labels']
             for r in results], [r['gt_bboxes'] for r in results],
            [r['gt_labels'] for r in results], self.iou_thr, self.fp_rates,
            [r.get('ignored_labels', ()) for r in results])
        self.last_curves = out['curves']
        self.last_missing = out['missing']
        self.last_froc = out['froc']
        self.last_img_ids = [r.get('img_id') for r in results]
        self._last_results = results
        self._last_entries = None
        for name, counts in out['missing'].items():
            logger.warning(
                f'CXRROCMetric: class {name!r} has {counts["num_pos"]} '
                f'positive and {counts["num_neg"]} negative images among '
                f'{len(results)}: no AUC reported for it (left out of mAUC)')
        if 'mAUC' not in out['metrics']:
            logger.warning('CXRROCMetric: no class has both positive and '
                           'negative images: mAUC not reported')
        froc = out['froc']
        if froc is not None and froc['num_lesions'] == 0:
            logger.warning(f'CXRROCMetric: no ground-truth box in '
                           f'{len(results)} images: FROC not reported')
        rows = [f'{"class":<22}{"pos":>6}{"neg":>6}{"AUC":>8}']
        for name in names:
            if name in out['curves']:
                c = out['curves'][name]
                rows.append(f'{name:<22}{c["num_pos"]:>6}{c["num_neg"]:>6}'
                            f'{c["auc"]:>8.4f}')
            else:
                m = out['missing'][name]
                rows.append(f'{name:<22}{m["num_pos"]:>6}{m["num_neg"]:>6}'
                            f'{"n/a":>8}')
        logger.info('CXRROCMetric image-level AUC:\n' + '\n'.join(rows))
        return dict(out['metrics'])

    @property
    def last_results(self) -> list | None:
        """The per-image results of the last evaluation (``scores``,
        ``img_labels``, predicted and ground-truth boxes, ``img_id``,
        ``img_path``), None before one."""
        return self._last_results

    def froc_hits(self) -> dict:
        """``froc_entries`` of the last evaluation (made on first use):
        per lesion the highest score hitting it, the false positives'
        scores, with image and class of each."""
        results = self._last_results
        if results is None:
            raise ValueError('CXRROCMetric.froc_hits needs an evaluation '
                             'first, got none')
        if self._last_entries is None:
            self._last_entries = froc_entries(
                *([r[k] for r in results]
                  for k in ('pred_bboxes', 'pred_scores', 'pred_labels',
                            'gt_bboxes', 'gt_labels')), self.iou_thr,
                [r.get('ignored_labels', ()) for r in results])
        return self._last_entries

    def resampled(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """The keys of the last evaluation (unprefixed) for image resamples.

        Args:
            weights: (B, N) multiplicity of each image of
                :attr:`last_img_ids` in each resample.

        Returns:
            dict of (B,) arrays: ``AUC_<key>`` of each class the evaluation
            gave an AUC, ``mAUC`` (mean over those defined in the
            resample), and with lesions ``FROC@<rate>`` and ``FROC``;
            ``nan`` where a resample leaves the figure undefined.
        """
        results = self._last_results
        if results is None:
            raise ValueError('CXRROCMetric.resampled needs an evaluation '
                             'first, got none')
        names = self.class_names
        auc = auc_resampled(
            np.stack([r['scores'] for r in results]),
            np.stack([r['img_labels'] for r in results]), weights)
        out = {}
        kept = [c for c, name in enumerate(names)
                if name in (self.last_curves or {})]
        for c in kept:
            out[f'AUC_{class_key(names[c])}'] = auc[:, c]
        if kept:
            with warnings.catch_warnings():
                # a resample without any class defined: nan
                warnings.simplefilter('ignore', RuntimeWarning)
                out['mAUC'] = np.nanmean(auc[:, kept], axis=1)
        if self.last_froc is not None and self.last_froc['num_lesions']:
            sens = froc_resampled(self.froc_hits(), weights, self.fp_rates)
            out['FROC'] = sens.mean(axis=1)
            for k, rate in enumerate(self.fp_rates):
                out[f'FROC@{rate:g}'] = sens[:, k]
        return out
