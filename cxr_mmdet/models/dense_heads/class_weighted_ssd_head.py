# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""SSD head whose classification loss is weighted per ground-truth class.

The weights live in a persistent buffer ``class_weight`` of shape
``(num_classes + 1,)`` (the last entry is background and always 1), so they
are saved in every ``state_dict``/checkpoint and restored on resume. With
``class_weight='inverse_frequency'`` the buffer starts at 1 and
:class:`~cxr_mmdet.engine.hooks.ClassWeightHook` fills it from the training
annotations before training (see :func:`inverse_frequency_weights`).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

import numpy as np
import torch
from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS
from torch import Tensor

from cxr_mmdet.datasets.image_labels import count_instances_per_image

#: ``class_weight`` value that asks for weights from the training counts.
INVERSE_FREQUENCY = 'inverse_frequency'


def inverse_frequency_weights(counts: Sequence[float]) -> list[float]:
    """Turn per-class instance counts into inverse-frequency weights.

    ``weight_c = total / count_c``, then normalised so that the weights have
    mean 1 over the classes (the ``total`` factor cancels in the
    normalisation; it is kept to match the formula the README names). The
    counts may be expected counts (non-negative reals, see
    :func:`expected_instances_per_class`).

    A class with count 0 cannot be inverted: it gets the largest raw weight
    among the present classes (it is at least as rare as the rarest present
    class) and a warning is issued. If no class has any instance, all
    weights are 1 (and a warning is issued).

    Args:
        counts (Sequence[float]): Instance count of each class, in label
            order.

    Returns:
        list[float]: One weight per class, mean 1.

    Examples:
        >>> inverse_frequency_weights([10, 10])
        [1.0, 1.0]
        >>> inverse_frequency_weights([30, 10])
        [0.5, 1.5]
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter('ignore')
        ...     weights = inverse_frequency_weights([30, 10, 0])
        >>> [round(w, 4) for w in weights]
        [0.4286, 1.2857, 1.2857]
    """
    counts = list(counts)
    if not counts:
        raise ValueError(f'counts must not be empty, got {counts!r}')
    for i, count in enumerate(counts):
        if (isinstance(count, bool) or not isinstance(count, numbers.Real)
                or not math.isfinite(count) or count < 0):
            raise ValueError('counts must be finite non-negative numbers, '
                             f'got {count!r} for class {i} in {counts!r}')
    total = float(sum(counts))
    if total == 0:
        warnings.warn(f'No class has any instance (counts {counts!r}): '
                      'all class weights are 1.')
        return [1.0] * len(counts)
    raw = [total / c if c > 0 else None for c in counts]
    largest = max(w for w in raw if w is not None)
    missing = [i for i, w in enumerate(raw) if w is None]
    if missing:
        warnings.warn(f'Classes {missing} have no instance (counts '
                      f'{counts!r}): they get the weight of the rarest '
                      'present class.')
    filled = [largest if w is None else w for w in raw]
    mean = sum(filled) / len(filled)
    return [w / mean for w in filled]


def count_instances_per_class(dataset: Any, num_classes: int) -> list[int]:
    """Count the non-ignored annotated instances of each class.

    Args:
        dataset: An mmengine-style dataset (``len`` and ``get_data_info``).
        num_classes (int): Number of foreground classes.

    Returns:
        list[int]: ``num_classes`` counts, in label order (the column sums
        of :func:`count_instances_per_image`).
    """
    return count_instances_per_image(dataset, num_classes).sum(0).tolist()


def expected_instances_per_class(per_image: np.ndarray, probs: np.ndarray,
                                 num_draws: int) -> list[float]:
    """Expected instances of each class in ``num_draws`` draws of images.

    An image drawn with probability ``p_i`` brings its ``n_ic`` boxes of
    class ``c``, so ``num_draws`` independent draws show in expectation
    ``num_draws * sum_i p_i * n_ic`` boxes of class ``c``: the class
    distribution the head trains on.

    Args:
        per_image (np.ndarray): Counts of shape (N, num_classes), see
            :func:`count_instances_per_image`.
        probs (np.ndarray): Draw probability of each image, shape (N,),
            summing to 1.
        num_draws (int): Images drawn (per epoch).

    Returns:
        list[float]: ``num_classes`` expected counts.

    Examples:
        >>> per_image = np.array([[2, 0], [0, 1], [0, 0]])
        >>> expected_instances_per_class(per_image, np.array([.2, .6, .2]),
        ...                              10)
        [4.0, 6.0]
    """
    per_image = np.asarray(per_image, dtype=np.float64)
    probs = np.asarray(probs, dtype=np.float64)
    if per_image.ndim != 2 or probs.shape != (per_image.shape[0], ):
        raise ValueError('probs must have one value per image: got probs of '
                         f'shape {probs.shape!r} for counts of shape '
                         f'{per_image.shape!r}')
    if (probs < 0).any() or not math.isclose(probs.sum(), 1.0, abs_tol=1e-6):
        raise ValueError('probs must be non-negative and sum to 1, got sum '
                         f'{probs.sum()!r}')
    return (float(num_draws) * probs @ per_image).tolist()


@MODELS.register_module()
class ClassWeightedSSDHead(SSDHead):
    """:class:`~mmdet.models.dense_heads.SSDHead` with per-class weights on
    the classification loss of positive anchors.

    The cross-entropy of a positive anchor assigned to a box of class ``c``
    is multiplied by ``class_weight[c]``; negatives (background) keep weight
    1, so hard negative mining picks exactly the anchors stock SSD picks,
    and its ``neg_pos_ratio`` still counts anchors, not weights. The
    normalisation (``avg_factor`` = number of positive anchors) is
    unchanged, so with all weights 1 the loss equals stock SSD's exactly.

    Only the classification loss is weighted: the box-regression loss is
    stock SSD's. The weights are meant to rebalance which classes the
    detector learns to *name*; how well a box fits does not depend on how
    common its class is, and weighting smooth-L1 too would rescale the
    balance between the two loss terms per class.

    mmdet 3.3.0's ``SSDHead`` has no ``loss_cls`` attribute, but
    ``BaseDenseHead._predict_by_feat_single`` reads ``self.loss_cls``
    (``'SSDHead' object has no attribute 'loss_cls'`` at predict time).
    This head sets ``self.loss_cls = None`` so it predicts on its own,
    whether or not the package-level compatibility patch is applied.

    Args:
        class_weight (None | Sequence[float] | str): ``None`` for weight 1
            on every class; ``num_classes`` positive floats in label
            order; or ``'inverse_frequency'``: weights filled before
            training from the training annotations by ``ClassWeightHook``
            (1 until then). Defaults to None.
        **kwargs: Passed to :class:`SSDHead` (``num_classes``,
            ``in_channels``, ``use_depthwise``, ``anchor_generator``...).
    """

    def __init__(self,
                 *args,
                 class_weight: None | Sequence[float] | str = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # mmdet 3.3.0 predict defect: BaseDenseHead reads self.loss_cls.
        self.loss_cls = None
        if class_weight is None:
            self.class_weight_mode = 'uniform'
            weights = [1.0] * self.num_classes
        elif isinstance(class_weight, str):
            if class_weight != INVERSE_FREQUENCY:
                raise ValueError(
                    'class_weight must be None, a list of '
                    f'{self.num_classes} floats or {INVERSE_FREQUENCY!r}, '
                    f'got {class_weight!r}')
            self.class_weight_mode = INVERSE_FREQUENCY
            weights = [1.0] * self.num_classes
        else:
            self.class_weight_mode = 'fixed'
            weights = self._check_weights(class_weight)
        self.register_buffer(
            'class_weight',
            torch.tensor(weights + [1.0], dtype=torch.float32),
            persistent=True)
        self._warned_unfilled = False
        self._prior_cache: dict[tuple, Any] = {}

    def get_anchors(self,
                    featmap_sizes: list[tuple[int, int]],
                    batch_img_metas: list[dict],
                    device: torch.device | str = 'cuda'
                    ) -> tuple[list[list[Tensor]], list[list[Tensor]]]:
        """``AnchorHead.get_anchors``, with the anchors of each (feature-map
        sizes, device) and the valid flags of each (sizes, pad shape,
        device) computed once and reused: they depend on nothing else.

        Returns:
            tuple: per image, the anchors (num_levels tensors of
            (H * W * A, 4)) and their valid flags, as mmdet's.
        """
        sizes = tuple(tuple(int(v) for v in s) for s in featmap_sizes)
        dev = str(torch.device(device))
        if len(self._prior_cache) > 64:
            self._prior_cache.clear()
        key = ('anchors', sizes, dev)
        if key not in self._prior_cache:
            self._prior_cache[key] = self.prior_generator.grid_priors(
                featmap_sizes, device=device)
        anchors = self._prior_cache[key]
        flags = []
        for meta in batch_img_metas:
            pad = tuple(int(v) for v in meta['pad_shape'][:2])
            key = ('flags', sizes, dev, pad)
            if key not in self._prior_cache:
                self._prior_cache[key] = self.prior_generator.valid_flags(
                    featmap_sizes, pad, device)
            flags.append(self._prior_cache[key])
        return [anchors] * len(batch_img_metas), flags

    def _check_weights(self, weights: Sequence[float]) -> list[float]:
        """Validate ``num_classes`` finite positive weights."""
        try:
            values = [float(w) for w in weights]
        except (TypeError, ValueError):
            raise ValueError('class_weight must be a sequence of numbers, '
                             f'got {weights!r}') from None
        if len(values) != self.num_classes:
            raise ValueError(
                f'class_weight needs {self.num_classes} values (one per '
                f'class, background excluded), got {len(values)}: '
                f'{weights!r}')
        if not all(math.isfinite(w) and w > 0 for w in values):
            raise ValueError('class_weight values must be finite and > 0, '
                             f'got {weights!r}')
        return values

    @property
    def foreground_class_weight(self) -> list[float]:
        """The weights of the ``num_classes`` foreground classes."""
        return self.class_weight[:self.num_classes].tolist()

    def set_class_weight(self, weights: Sequence[float]) -> None:
        """Set the foreground class weights in place (background stays 1).

        Args:
            weights (Sequence[float]): ``num_classes`` finite positive
                floats, in label order.
        """
        values = self._check_weights(weights)
        with torch.no_grad():
            self.class_weight[:self.num_classes] = torch.tensor(
                values,
                dtype=self.class_weight.dtype,
                device=self.class_weight.device)
            self.class_weight[self.num_classes] = 1.0

    def loss_by_feat_single(self, cls_score: Tensor, bbox_pred: Tensor,
                            anchor: Tensor, labels: Tensor,
                            label_weights: Tensor, bbox_targets: Tensor,
                            bbox_weights: Tensor,
                            avg_factor: int) -> tuple[Tensor, Tensor]:
        """Compute the losses of one image with class-weighted cross-entropy.

        Stock ``SSDHead.loss_by_feat_single`` multiplies the per-anchor
        cross-entropy by ``label_weights`` and uses them nowhere else, so
        the class weight of each anchor's target (background: 1) is folded
        into them. Shapes: ``cls_score`` (A, num_classes + 1), ``labels``
        and ``label_weights`` (A,), ``bbox_*`` (A, 4).

        Returns:
            tuple[Tensor, Tensor]: Classification loss of shape (1,) and
            box-regression loss (scalar), as stock SSD.
        """
        if (self.class_weight_mode == INVERSE_FREQUENCY
                and not self._warned_unfilled and bool(
                    (self.class_weight == 1).all())):
            warnings.warn(
                "ClassWeightedSSDHead(class_weight='inverse_frequency') "
                'computes its loss with all weights 1: register '
                'ClassWeightHook in custom_hooks to fill them from the '
                'training counts (or the training set is balanced).')
            self._warned_unfilled = True
        class_weight = self.class_weight.to(label_weights.dtype)
        weighted = label_weights * class_weight[labels]
        return super().loss_by_feat_single(cls_score, bbox_pred, anchor,
                                           labels, weighted, bbox_targets,
                                           bbox_weights, avg_factor)
