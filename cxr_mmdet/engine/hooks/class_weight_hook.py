# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fill, log, save and checkpoint the class weights of the detection head."""
from __future__ import annotations

import json
import math
import os.path as osp
from typing import Any

import numpy as np
from mmdet.registry import HOOKS
from mmengine.dataset import DefaultSampler, InfiniteSampler
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import RandomSampler, SequentialSampler

from cxr_mmdet.datasets.image_labels import count_instances_per_image
from cxr_mmdet.datasets.samplers.cxr_balanced_sampler import \
    CXRBalancedSampler
from cxr_mmdet.models.dense_heads.class_weighted_ssd_head import (
    INVERSE_FREQUENCY, ClassWeightedSSDHead, expected_instances_per_class,
    inverse_frequency_weights)

#: samplers that draw every image equally often
UNIFORM_SAMPLERS = (DefaultSampler, InfiniteSampler, RandomSampler,
                    SequentialSampler)


def sampler_draw(sampler: Any) -> tuple[np.ndarray, int] | None:
    """The draw probability of each image and the draws per epoch of a
    training sampler, or None for a uniform sampler.

    Raises:
        ValueError: for a sampler whose draw is not known here.
    """
    if isinstance(sampler, CXRBalancedSampler):
        return sampler.probs, sampler.epoch_length
    if isinstance(sampler, UNIFORM_SAMPLERS):
        return None
    raise ValueError(
        'ClassWeightHook cannot tell how often the training sampler '
        f'{type(sampler).__name__} draws each image, so it cannot weigh the '
        'classes as the head sees them; use CXRBalancedSampler or a '
        'uniform sampler (' +
        ', '.join(t.__name__ for t in UNIFORM_SAMPLERS) + ')')


@HOOKS.register_module()
class ClassWeightHook(Hook):
    """Set the weights of every :class:`ClassWeightedSSDHead` before training.

    ``before_train`` counts the non-ignored instances of each class in
    ``runner.train_dataloader.dataset`` as the head sees them: under a
    :class:`CXRBalancedSampler` the expected boxes of each class per epoch,
    ``epoch_length * sum_i p_i * n_ic`` over images ``i`` drawn with
    probability ``p_i`` (:func:`expected_instances_per_class`), so the
    sampler's rebalancing is not applied twice; under a uniform sampler the
    raw counts. A head built with ``class_weight='inverse_frequency'`` gets
    :func:`inverse_frequency_weights` of these counts; a head with fixed or
    no weights keeps its own. The raw and seen counts and the weights in
    use are logged, written to ``<work_dir>/<file_name>`` and stored in
    every checkpoint's ``meta['class_counts']``,
    ``meta['seen_class_counts']`` and ``meta['class_weights']`` (plain
    lists, in label order).

    Resume: mmengine's ``Runner.train`` resumes (loading the head's
    ``class_weight`` buffer from the checkpoint) *before* the train loop
    calls ``before_train``. When training resumes (``runner.iter > 0``) and
    the restored weights are not all 1, they are kept, so a resumed run
    trains with the weights it started with; if the current data would give
    other weights, a warning says so. Otherwise (a fresh run, ``load_from``
    of any checkpoint, or a resumed checkpoint whose weights are all 1) the
    weights are computed from the current training data.

    Args:
        file_name (str): Name of the JSON file written in the work dir.
            Defaults to ``'class_weights.json'``.
    """

    priority = 'NORMAL'

    def __init__(self, file_name: str = 'class_weights.json') -> None:
        if not file_name or osp.basename(file_name) != file_name:
            raise ValueError('file_name must be a plain file name, got '
                             f'{file_name!r}')
        self.file_name = file_name
        self.class_counts: list[int] | None = None
        self.seen_class_counts: list[float] | None = None

    @staticmethod
    def _heads(runner) -> list[ClassWeightedSSDHead]:
        """Return the class-weighted heads of the (unwrapped) model."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        return [
            m for m in model.modules() if isinstance(m, ClassWeightedSSDHead)
        ]

    def before_train(self, runner) -> None:
        """Count the training instances and fill/log/save the weights."""
        heads = self._heads(runner)
        dataset = runner.train_dataloader.dataset
        classes = list(getattr(dataset, 'metainfo', {}).get('classes', ()))
        if heads:
            num_classes = heads[0].num_classes
        elif classes:
            num_classes = len(classes)
        else:
            raise ValueError(
                'ClassWeightHook found no ClassWeightedSSDHead in the model '
                'and no metainfo["classes"] in the training dataset '
                f'{type(dataset).__name__}, so it cannot count classes.')
        if classes and len(classes) != num_classes:
            raise ValueError(
                f'The head has {num_classes} classes but the training '
                f'dataset metainfo lists {len(classes)}: {classes!r}')
        per_image = count_instances_per_image(dataset, num_classes)
        counts = per_image.sum(0).tolist()
        sampler = runner.train_dataloader.sampler
        draw = sampler_draw(sampler)
        if draw is None:
            seen = [float(c) for c in counts]
        else:
            seen = expected_instances_per_class(per_image, *draw)
        self.class_counts = counts
        self.seen_class_counts = seen
        resumed = runner.iter > 0
        record: dict[str, Any] = dict(
            classes=classes,
            class_counts=counts,
            seen_class_counts=seen,
            sampler=type(sampler).__name__,
            num_train_images=len(dataset),
            resumed=resumed)
        if not heads:
            runner.logger.warning(
                'ClassWeightHook: the model has no ClassWeightedSSDHead; '
                'only the class counts are logged.')
        for i, head in enumerate(heads):
            source = self._fill(runner, head, seen, resumed)
            if i == 0:
                record.update(
                    class_weights=head.foreground_class_weight,
                    class_weight_mode=head.class_weight_mode,
                    source=source)
            elif head.foreground_class_weight != record['class_weights']:
                runner.logger.warning(
                    'ClassWeightHook: the model has several '
                    'ClassWeightedSSDHead with different weights; the '
                    'first one is logged and checkpointed.')
        names = classes or [str(c) for c in range(num_classes)]
        lines = [
            f'{name}: count {count}, seen {s:.1f}' +
            (f', weight {w:.4f}' if 'class_weights' in record else '')
            for name, count, s, w in zip(
                names, counts, seen,
                record.get('class_weights', [math.nan] * num_classes))
        ]
        runner.logger.info(
            'Class counts, counts seen per epoch under '
            f'{record["sampler"]} and weights '
            f'({record.get("source", "no head")}):\n  ' + '\n  '.join(lines))
        if is_main_process():
            path = osp.join(runner.work_dir, self.file_name)
            with open(path, 'w', encoding='utf-8') as f:
                json.dump(record, f, indent=2)
            runner.logger.info(f'Class weights written to {path}')

    @staticmethod
    def _fill(runner, head: ClassWeightedSSDHead, counts: list[float],
              resumed: bool) -> str:
        """Set the head's weights if it asks for them; say where they came
        from (``'checkpoint'``, ``'inverse_frequency'``, ``'fixed'`` or
        ``'uniform'``)."""
        if head.class_weight_mode != INVERSE_FREQUENCY:
            return head.class_weight_mode
        expected = inverse_frequency_weights(counts)
        current = head.foreground_class_weight
        if resumed and any(w != 1.0 for w in current):
            if not all(
                    math.isclose(a, b, rel_tol=1e-5)
                    for a, b in zip(current, expected)):
                runner.logger.warning(
                    'ClassWeightHook: keeping the class weights restored '
                    f'from the checkpoint {current} although the current '
                    f'training counts {counts} give {expected}.')
            return 'checkpoint'
        head.set_class_weight(expected)
        return INVERSE_FREQUENCY

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the weights in use and the class counts in the meta."""
        heads = self._heads(runner)
        meta = checkpoint.setdefault('meta', {})
        if heads:
            meta['class_weights'] = heads[0].foreground_class_weight
        if self.class_counts is not None:
            meta['class_counts'] = list(self.class_counts)
        if self.seen_class_counts is not None:
            meta['seen_class_counts'] = list(self.seen_class_counts)
