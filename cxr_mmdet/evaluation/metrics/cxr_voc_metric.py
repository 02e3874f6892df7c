# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""VOC AP on continuous coordinates: the VinBigData challenge metric."""
from __future__ import annotations

from collections import OrderedDict
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from mmengine.logging import MMLogger

from mmdet.evaluation import VOCMetric
from mmdet.evaluation.functional import eval_map, eval_recalls
from mmdet.registry import METRICS

from ..functional.ignored_labels import checked_ignored_labels
from ..functional.voc_resampled import voc_ap_resampled, voc_matches


@METRICS.register_module()
class CXRVOCMetric(VOCMetric):
    """:class:`~mmdet.evaluation.VOCMetric` on continuous coordinates, with
    labelled-but-boxless classes ignored.

    The VinBigData challenge metric is VOC2010-style (``'area'``) AP at IoU
    0.4 on the boxes as given. ``VOCMetric`` calls ``eval_map`` and
    ``eval_recalls`` with ``use_legacy_coordinate=True`` (width
    ``x2 - x1 + 1``), which inflates the IoU of small boxes; this metric
    calls them with ``use_legacy_coordinate=False`` (width ``x2 - x1``, as
    mmdet's ``bbox_overlaps`` and pycocotools). Otherwise it is
    ``eval_map``: a detection is a hit when its best IoU with a box of its
    class is ``>= iou_thr`` and that box is not yet matched, ``difficult``
    boxes (``ignored_instances``) are ignored, and the mean runs over the
    classes with at least one box. The keys are ``VOCMetric``'s:
    ``pascal_voc/mAP`` and ``pascal_voc/AP40`` (for ``iou_thrs=[0.4]``).

    A data sample may list ``ignored_labels`` (metainfo: classes the image
    is labelled with but has no box of); its detections of those classes
    are dropped, so a correct finding without a box is not a false positive.

    After each ``'mAP'`` evaluation, on the rank that computes the metrics,
    the per-image results stay: :meth:`resampled` recomputes the keys for
    image resamples and :attr:`last_img_ids` names the images.

    Args:
        eval_mode: ``'area'`` (VOC2010 and later, the default here) or
            ``'11points'``.
        nproc: Processes of ``eval_map`` (its default, 4).
        **kwargs: Those of ``VOCMetric``.
    """

    def __init__(self,
                 eval_mode: str = 'area',
                 nproc: int = 4,
                 **kwargs: Any) -> None:
        super().__init__(eval_mode=eval_mode, **kwargs)
        if not isinstance(nproc, int) or nproc < 1:
            raise ValueError(f'nproc must be a positive int, got {nproc!r}')
        self.nproc = nproc
        self.last_img_ids: list | None = None
        self._last_results: tuple | None = None
        self._last_matches: dict = {}

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """``VOCMetric.process``, then drop the detections of each sample's
        ``ignored_labels``."""
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            super().process(data_batch, [sample])
            # the image of each result, for resampling (eval_map reads only
            # the box keys)
            self.results[-1][0]['img_id'] = sample.get('img_id')
            ignored = sample.get('ignored_labels')
            if ignored is None or len(ignored) == 0:
                continue
            ann, dets = self.results[-1]
            ignored = checked_ignored_labels(ignored, num_classes,
                                             ann['labels'].tolist(),
                                             sample.get('img_path'))
            for c in ignored:
                dets[c] = dets[c][:0]

    def compute_metrics(self, results: list) -> dict:
        """``VOCMetric.compute_metrics`` with continuous coordinates."""
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        eval_results: OrderedDict[str, float] = OrderedDict()
        if self.metric == 'mAP':
            mean_aps = []
            for iou_thr in self.iou_thrs:
                logger.info(f'\n{"-" * 15}iou_thr: {iou_thr}{"-" * 15}')
                mean_ap, _ = eval_map(
                    preds,
                    gts,
                    scale_ranges=self.scale_ranges,
                    iou_thr=iou_thr,
                    dataset=self.dataset_meta['classes'],
                    logger=logger,
                    eval_mode=self.eval_mode,
                    nproc=self.nproc,
                    use_legacy_coordinate=False)
                mean_aps.append(mean_ap)
                eval_results[f'AP{int(iou_thr * 100):02d}'] = round(mean_ap, 3)
            eval_results['mAP'] = sum(mean_aps) / len(mean_aps)
            eval_results.move_to_end('mAP', last=False)
            self.last_img_ids = [gt.get('img_id') for gt in gts]
            self._last_results = (gts, preds)
            self._last_matches = {}
        else:
            recalls = eval_recalls([gt['bboxes'] for gt in gts],
                                   [pred[0] for pred in preds],
                                   self.proposal_nums,
                                   self.iou_thrs,
                                   logger=logger,
                                   use_legacy_coordinate=False)
            for i, num in enumerate(self.proposal_nums):
                for j, iou_thr in enumerate(self.iou_thrs):
                    eval_results[f'recall@{num}@{iou_thr}'] = recalls[i, j]
            if recalls.shape[1] > 1:
                ar = recalls.mean(axis=1)
                for i, num in enumerate(self.proposal_nums):
                    eval_results[f'AR@{num}'] = ar[i]
        return eval_results

    def resampled(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """``mAP`` and ``AP<iou>`` (unprefixed) for image resamples.

        Args:
            weights: (B, N) multiplicity of each image of
                :attr:`last_img_ids` in each resample.

        Returns:
            dict of (B,) arrays, unrounded; ``nan`` where a resample holds
            no box at all.
        """
        if self._last_results is None:
            raise ValueError('CXRVOCMetric.resampled needs an mAP '
                             'evaluation first, got none')
        gts, preds = self._last_results
        out, per_thr = {}, []
        for iou_thr in self.iou_thrs:
            if iou_thr not in self._last_matches:
                self._last_matches[iou_thr] = voc_matches(gts, preds, iou_thr)
            ap = voc_ap_resampled(self._last_matches[iou_thr], weights)
            with warnings.catch_warnings():
                # the mean of an all-nan row (no box at all) is nan
                warnings.simplefilter('ignore', RuntimeWarning)
                mean_ap = np.nanmean(ap, axis=1)
            out[f'AP{int(iou_thr * 100):02d}'] = mean_ap
            per_thr.append(mean_ap)
        return dict(mAP=np.mean(per_thr, axis=0), **out)
