# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image sets and their resamples written out as physical copies, so a
weighted figure can be checked against the reference run on the copies."""
from __future__ import annotations

import contextlib
import io

import numpy as np

from cxr_mmdet.testing import synthetic_detections


def detection_images(num_images: int = 40, seed: int = 0) -> list[dict]:
    """Small :func:`synthetic_detections` set (30 boxes an image)."""
    return synthetic_detections(num_images, dets_per_image=30, seed=seed)


def copies(images: list[dict], repeats) -> list[dict]:
    """Each image ``repeats[i]`` times, copies under new ids."""
    out = []
    for image, count in zip(images, repeats):
        for k in range(int(count)):
            out.append(dict(image, img_id=f'{image["img_id"]}#{k}'))
    return out


def coco_eval_of(images: list[dict], crowd_every: int = 0):
    """pycocotools ``COCOeval`` (bbox, maxDets 100/300/1000 as mmdet sets
    them) of the images, evaluated and accumulated; with ``crowd_every``
    the first box of every such image is a crowd box."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    coco_images, anns, dets = [], [], []
    for image in images:
        iid = image['img_id']
        coco_images.append(dict(id=iid, width=image['size'],
                                height=image['size']))
        crowd = crowd_every and int(image['img_id'][10:15]) % crowd_every == 0
        for j, (box, label) in enumerate(
                zip(image['gt_bboxes'], image['gt_labels'])):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            anns.append(dict(id=len(anns) + 1, image_id=iid,
                             bbox=[float(box[0]), float(box[1]), w, h],
                             area=w * h, category_id=int(label),
                             iscrowd=int(bool(crowd) and j == 0)))
        for box, score, label in zip(image['pred_bboxes'],
                                     image['pred_scores'],
                                     image['pred_labels']):
            dets.append(dict(image_id=iid, score=float(score),
                             category_id=int(label),
                             bbox=[float(box[0]), float(box[1]),
                                   float(box[2] - box[0]),
                                   float(box[3] - box[1])]))
    gt = COCO()
    gt.dataset = dict(images=coco_images, annotations=anns,
                      categories=[dict(id=c, name=str(c)) for c in range(6)])
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        coco_eval = COCOeval(gt, gt.loadRes(dets), 'bbox')
        coco_eval.params.maxDets = [100, 300, 1000]
        coco_eval.evaluate()
        coco_eval.accumulate()
    return coco_eval


def coco_class_ap(coco_eval) -> np.ndarray:
    """(K, T) AP that ``accumulate`` gives (area all, largest maxDets),
    ``nan`` for a class without positives."""
    precision = coco_eval.eval['precision'][:, :, :, 0, -1]  # T, R, K
    defined = (precision > -1).all(axis=1)
    return np.where(defined, precision.mean(axis=1), np.nan).T


def binormal(num_pos: int, num_neg: int, shift: float, rng):
    """Scores and labels of a binormal problem: negatives N(0, 1),
    positives N(shift, 1); its AUC is ``Phi(shift / sqrt(2))``."""
    scores = np.r_[rng.normal(shift, 1, num_pos), rng.normal(0, 1, num_neg)]
    labels = np.r_[np.ones(num_pos, int), np.zeros(num_neg, int)]
    return scores, labels


def voc_inputs(images: list[dict], num_classes: int = 6,
               ignore_every: int = 0) -> tuple[list, list]:
    """``eval_map``'s annotations and det_results of the images; with
    ``ignore_every`` the first box of every such image is ignored."""
    annotations, det_results = [], []
    for image in images:
        boxes = np.asarray(image['gt_bboxes'], np.float32).reshape(-1, 4)
        labels = np.asarray(image['gt_labels'], np.int64)
        ignore = np.zeros(labels.size, bool)
        if ignore_every and labels.size and \
                int(image['img_id'][10:15]) % ignore_every == 0:
            ignore[0] = True
        annotations.append(dict(bboxes=boxes[~ignore], labels=labels[~ignore],
                                bboxes_ignore=boxes[ignore],
                                labels_ignore=labels[ignore]))
        dets = np.c_[image['pred_bboxes'], image['pred_scores']].astype(
            np.float32)
        det_results.append(
            [dets[image['pred_labels'] == c] for c in range(num_classes)])
    return annotations, det_results


def froc_inputs(images: list[dict]) -> tuple[list, ...]:
    """``froc_score``'s per-image lists of the images."""
    keys = ('pred_bboxes', 'pred_scores', 'pred_labels', 'gt_bboxes',
            'gt_labels')
    return tuple([image[k] for image in images] for k in keys)
