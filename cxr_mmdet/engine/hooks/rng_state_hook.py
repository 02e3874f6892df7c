# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Save the random-number state in checkpoints so a resumed run repeats
the uninterrupted one."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook

from mmdet.registry import HOOKS

#: ``meta`` key of the saved state.
RNG_STATE_KEY = 'rng_state'


def capture_rng_state(sampler: Any = None) -> dict:
    """Return the global random states as plain, allow-listed types.

    Python ``random`` (a tuple of ints), numpy's legacy global generator
    (its MT19937 key as a list of ints), torch's CPU generator and, when
    CUDA is initialised, every CUDA device's generator (uint8 tensors);
    plus ``sampler_seed``, the ``seed`` attribute of ``sampler`` if any.
    """
    np_state = np.random.get_state(legacy=True)
    state = dict(
        python=random.getstate(),
        numpy=dict(
            algorithm=str(np_state[0]),
            key=[int(k) for k in np_state[1]],
            pos=int(np_state[2]),
            has_gauss=int(np_state[3]),
            cached_gaussian=float(np_state[4])),
        torch=torch.get_rng_state().clone(),
        cuda=[],
        sampler_seed=None)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.clone() for s in torch.cuda.get_rng_state_all()]
    seed = getattr(sampler, 'seed', None)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        state['sampler_seed'] = int(seed)
    return state


def restore_rng_state(state: dict) -> list[str]:
    """Set the global random states from :func:`capture_rng_state`'s dict.

    Returns:
        list[str]: the generators restored (``python``, ``numpy``,
        ``torch``, ``cuda``).

    Raises:
        ValueError: if ``state`` is not such a dict.
    """
    if not isinstance(state, dict):
        raise ValueError(f'rng state must be a dict, got {type(state)!r}')
    done = []
    if state.get('python') is not None:
        version, internal, gauss = state['python']
        random.setstate((version, tuple(internal), gauss))
        done.append('python')
    np_state = state.get('numpy')
    if np_state is not None:
        np.random.set_state(
            (np_state['algorithm'], np.asarray(np_state['key'], np.uint32),
             int(np_state['pos']), int(np_state['has_gauss']),
             float(np_state['cached_gaussian'])))
        done.append('numpy')
    if state.get('torch') is not None:
        torch.set_rng_state(
            torch.as_tensor(state['torch'], dtype=torch.uint8).cpu())
        done.append('torch')
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available() \
            and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(
            [torch.as_tensor(s, dtype=torch.uint8).cpu() for s in cuda])
        done.append('cuda')
    return done


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make a resumed epoch-based training draw the same random numbers as
    an uninterrupted one.

    mmengine restores weights, optimizer, schedulers and counters on resume,
    but not the global generators that the data pipeline (``Expand``,
    ``MinIoURandomCrop``, ``RandomFlip``, ``PhotoMetricDistortion`` with
    ``num_workers=0``) and the model draw from, and not the seed of a
    sampler built before the checkpoint is read. This hook:

    - at the end of each training epoch (before the checkpoint hook saves)
      takes a snapshot of the python, numpy, torch (and CUDA) generators;
    - writes it to every checkpoint's ``meta['rng_state']`` (plain lists,
      ints, floats and uint8 tensors: loadable under ``weights_only``);
    - at the start of the next epoch sets the generators back to the
      snapshot, so whatever runs between epochs (validation, checkpoint
      writing) does not shift the training stream;
    - on resume, restores the snapshot from the checkpoint the same way at
      the start of the first resumed epoch, and sets the training sampler's
      ``seed`` back to the saved one (it differs when the config has no
      fixed seed: mmengine draws the sampler seed before it resumes).

    ``load_from`` (not a resume) leaves the generators alone.

    Exactness needs ``randomness=dict(seed=..., deterministic=True)`` and
    the same number of data workers and threads. With ``num_workers > 0``
    the workers are seeded by mmengine from ``seed + worker id`` at each
    epoch start, independently of this hook; with ``persistent_workers``
    they keep their stream across epochs, which a resumed run cannot
    reproduce. Iteration-based loops replay the epoch's data to skip ahead
    after a resume, so they are not exact either.
    """

    # snapshot before CheckpointHook (VERY_LOW) saves in after_train_epoch;
    # restore after DistSamplerSeedHook (NORMAL) in before_train_epoch
    priority = 'LOW'

    def __init__(self) -> None:
        self._snapshot: dict | None = None
        self._pending: dict | None = None

    @staticmethod
    def _sampler(runner) -> Any:
        loop = getattr(runner, '_train_loop', None)
        loader = getattr(loop, 'dataloader', None)
        return getattr(loader, 'sampler', None)

    def after_train_epoch(self, runner) -> None:
        """Snapshot the generators at the end of the epoch."""
        self._snapshot = capture_rng_state(self._sampler(runner))
        self._pending = self._snapshot

    def before_train_epoch(self, runner) -> None:
        """Start the epoch from the snapshot (saved or loaded)."""
        if self._pending is None:
            return
        restore_rng_state(self._pending)
        self._pending = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Put the latest end-of-epoch snapshot into ``meta``."""
        state = self._snapshot
        if state is None:  # e.g. an iteration-based checkpoint
            state = capture_rng_state(self._sampler(runner))
        checkpoint.setdefault('meta', {})[RNG_STATE_KEY] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """On resume, queue the saved snapshot and restore the sampler
        seed."""
        if not getattr(runner, '_resume', False):
            return
        state = (checkpoint.get('meta') or {}).get(RNG_STATE_KEY)
        if state is None:
            runner.logger.warning(
                'RNGStateHook: the resumed checkpoint has no '
                f'meta[{RNG_STATE_KEY!r}]; the random stream of the resumed '
                'run will differ from an uninterrupted one')
            return
        self._snapshot = state
        self._pending = state
        sampler = self._sampler(runner)
        seed = state.get('sampler_seed')
        if seed is not None and hasattr(sampler, 'seed') \
                and sampler.seed != seed:
            runner.logger.info(
                f'RNGStateHook: sampler seed {sampler.seed} -> {seed} '
                '(from the checkpoint)')
            sampler.seed = seed
