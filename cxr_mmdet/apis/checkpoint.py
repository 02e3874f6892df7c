# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Read a checkpoint and check that it fits the model before evaluating it.

mmengine loads ``load_from`` with ``strict=False``: tensors of another
shape, missing or unexpected keys are only logged, and evaluation goes on
with the weights that were never loaded. That is right for fine-tuning
(the classifier of a COCO checkpoint is skipped by shape), wrong for
``tools/test.py`` and ``tools/infer.py``: there the checkpoint must fit the
model exactly, or the run stops naming the file and the keys.
"""
from __future__ import annotations

import os.path as osp
import pickle
import zipfile
from collections.abc import Mapping

from ..compat.atomic_checkpoint import checkpoint_unreadable_reason

#: How many keys an error message lists of each kind.
SHOWN_KEYS = 5


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model."""


def check_checkpoint_file(path: str, option: str = '') -> None:
    """Check that a local checkpoint file exists and is whole.

    Raises:
        FileNotFoundError: if there is no file at ``path``.
        CheckpointError: naming ``path`` and why, if it is empty or
            truncated. Both messages start with ``'<option>: '`` when
            ``option`` (the setting that named the file) is given.
    """
    prefix = f'{option}: ' if option else ''
    if not osp.isfile(path):
        raise FileNotFoundError(f'{prefix}no checkpoint at {path!r}')
    reason = checkpoint_unreadable_reason(path)
    if reason is not None:
        raise CheckpointError(f'{prefix}checkpoint {path!r} cannot be '
                              f'loaded: {reason}')


def read_checkpoint(path: str, map_location: str = 'cpu') -> dict:
    """Load a local checkpoint through mmengine (and the allow-list).

    Raises:
        CheckpointError: naming ``path``, if it is missing, empty,
            truncated or holds no dict.
        UnsafeCheckpointError: if it holds a refused global.
    """
    from mmengine.runner.checkpoint import _load_checkpoint

    from ..compat import UnsafeCheckpointError
    if not osp.isfile(path):
        raise CheckpointError(f'no checkpoint file at {path!r}')
    check_checkpoint_file(path)
    try:
        checkpoint = _load_checkpoint(path, map_location=map_location)
    except UnsafeCheckpointError:
        raise
    except (EOFError, RuntimeError, pickle.UnpicklingError,
            zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointError(
            f'checkpoint {path!r} cannot be loaded: {type(err).__name__}: '
            f'{str(err).splitlines()[0] if str(err) else ""}') from err
    if not isinstance(checkpoint, Mapping):
        raise CheckpointError(f'checkpoint {path!r} holds a '
                              f'{type(checkpoint).__name__}, not a dict')
    return checkpoint


def checkpoint_state_dict(checkpoint: Mapping) -> Mapping:
    """The weights of a checkpoint as mmengine reads them (``state_dict``
    if present, else the dict itself; a ``module.`` prefix removed)."""
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, Mapping):
        return {}
    return {
        (k[len('module.'):] if isinstance(k, str) and k.startswith(
            'module.') else k): v
        for k, v in state.items()
    }


def state_dict_mismatch(model, checkpoint: Mapping) -> dict[str, list]:
    """Compare a checkpoint's weights with ``model.state_dict()``.

    Returns:
        dict: ``missing`` (model keys the checkpoint lacks; BatchNorm's
        ``num_batches_tracked`` ignored, as mmengine does), ``unexpected``
        (checkpoint keys the model lacks) and ``shape`` (``(key,
        checkpoint shape, model shape)`` of tensors of another shape).
    """
    own = model.state_dict()
    theirs = checkpoint_state_dict(checkpoint)
    missing = [
        k for k in own
        if k not in theirs and not k.endswith('num_batches_tracked')
    ]
    unexpected = [str(k) for k in theirs if k not in own]
    shape = []
    for key, value in theirs.items():
        if key in own:
            got = tuple(getattr(value, 'shape', ()))
            want = tuple(own[key].shape)
            if not hasattr(value, 'shape') or got != want:
                shape.append((key, got if hasattr(value, 'shape') else
                              type(value).__name__, want))
    return dict(missing=missing, unexpected=unexpected, shape=shape)


def _listed(keys: list) -> str:
    shown = ', '.join(map(str, keys[:SHOWN_KEYS]))
    more = len(keys) - SHOWN_KEYS
    return shown + (f' and {more} more' if more > 0 else '')


def mismatch_message(path: str, mismatch: dict[str, list]) -> str | None:
    """One line saying how a checkpoint does not fit, or None if it fits."""
    parts = []
    if mismatch['shape']:
        shown = [
            f'{k} (checkpoint {tuple(got) if isinstance(got, tuple) else got}'
            f' vs model {want})' for k, got, want in mismatch['shape']
        ]
        parts.append(f'{len(shown)} tensors of another shape: '
                     f'{_listed(shown)}')
    if mismatch['missing']:
        parts.append(f'{len(mismatch["missing"])} missing keys: '
                     f'{_listed(mismatch["missing"])}')
    if mismatch['unexpected']:
        parts.append(f'{len(mismatch["unexpected"])} unexpected keys: '
                     f'{_listed(mismatch["unexpected"])}')
    if not parts:
        return None
    return (f'checkpoint {path!r} does not fit the model: ' +
            '; '.join(parts) + '. Evaluating it would use weights that were '
            'never loaded; check that the config matches the checkpoint '
            '(load_from for fine-tuning skips such tensors instead)')


def check_checkpoint_fits(model, checkpoint: Mapping, path: str) -> None:
    """Raise :class:`CheckpointError` unless ``checkpoint`` fits ``model``
    exactly (every key present, no extra key, every shape equal)."""
    message = mismatch_message(path, state_dict_mismatch(model, checkpoint))
    if message is not None:
        raise CheckpointError(message)


def load_checkpoint_strict(runner, path: str) -> dict:
    """Load ``path`` into a runner's model for testing, exactly.

    Reads the file once, runs the runner's ``after_load_checkpoint`` hooks
    (as :meth:`mmengine.runner.Runner.load_checkpoint` does), checks the
    fit, then loads with ``strict=True``. The runner's own loading is
    skipped afterwards, as after ``Runner.load_checkpoint``.

    Raises:
        CheckpointError: naming ``path`` and the keys that do not fit.
    """
    from mmengine.model import BaseTTAModel, is_model_wrapper
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    checkpoint = read_checkpoint(path)
    runner.call_hook('after_load_checkpoint', checkpoint=checkpoint)
    model = runner.model
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    check_checkpoint_fits(model, checkpoint, path)
    _load_checkpoint_to_model(model, checkpoint, strict=True)
    # what Runner.load_checkpoint sets, so that test() does not load again
    runner._has_loaded = True
    runner.logger.info(f'Load checkpoint from {path} (checked: every '
                       'tensor fits the model)')
    return checkpoint
