# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write local checkpoints atomically.

mmengine 0.10.7 writes a checkpoint straight to its final name, so a
process killed during the write leaves a truncated ``epoch_N.pth`` (and a
``last_checkpoint`` pointing at it). The replacement below writes local
checkpoints to a temporary file in the same folder, fsyncs it and renames
it over the target (``os.replace`` is atomic on POSIX; see
:func:`cxr_mmdet.utils.atomic_io.atomic_write_bytes`), so a kill leaves
either the old file or the new one, never half of one. The temporary file
a killed write leaves behind (``.<name>.<random>.tmp``) is removed by the
next successful write of the same name. Remote URIs keep mmengine's own
path.

mmengine writes ``last_checkpoint`` (the name auto-resume reads) in place
after the checkpoint, so a kill in between can leave it empty; and it may
name a checkpoint deleted since, or one truncated by a copy or a full disk.
:func:`find_latest_checkpoint` then falls back to the newest readable
``epoch_N.pth``/``iter_N.pth`` in the work dir.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import re
import zipfile

from ..utils.atomic_io import atomic_write_bytes

_ORIGINAL = None


def atomic_save_checkpoint(checkpoint: dict,
                           filename: str,
                           file_client_args: dict | None = None,
                           backend_args: dict | None = None) -> None:
    """Drop-in for :func:`mmengine.runner.checkpoint.save_checkpoint`."""
    import torch
    if '://' in str(filename) or file_client_args is not None or (
            backend_args and backend_args.get('backend', 'local') != 'local'):
        return _ORIGINAL(checkpoint, filename, file_client_args,
                         backend_args)
    with io.BytesIO() as buffer:
        torch.save(checkpoint, buffer)
        atomic_write_bytes(buffer.getvalue(), filename)


def checkpoint_unreadable_reason(path: str) -> str | None:
    """Why ``path`` cannot be a complete checkpoint, from its bytes alone.

    Cheap (no unpickling): an empty file, or a zip-format checkpoint (what
    ``torch.save`` writes) whose central directory is missing, as a
    truncated write leaves it. None when nothing is wrong that this can
    see.

    >>> import os
    >>> checkpoint_unreadable_reason(os.devnull)
    'it is empty (0 bytes)'
    """
    try:
        size = osp.getsize(path)
    except OSError as err:
        return f'it cannot be read ({err.strerror})'
    if size == 0:
        return 'it is empty (0 bytes)'
    with open(path, 'rb') as f:
        magic = f.read(4)
    if magic[:2] == b'PK':
        try:
            with zipfile.ZipFile(path):
                pass
        except (zipfile.BadZipFile, OSError) as err:
            return (f'it is truncated or corrupt ({size} bytes; zip '
                    f'archive: {err})')
    return None


_NUMBERED = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def find_latest_checkpoint(path: str) -> str | None:
    """Drop-in for mmengine's ``find_latest_checkpoint`` (auto-resume).

    Returns the file ``last_checkpoint`` names if it exists and is not
    empty or truncated (:func:`checkpoint_unreadable_reason`); otherwise
    (no, empty or stale ``last_checkpoint``, or a damaged checkpoint) the
    highest-numbered readable ``epoch_N.pth`` or ``iter_N.pth`` of
    ``path``, or None.
    """
    from mmengine.logging import print_log
    save_file = osp.join(path, 'last_checkpoint')
    named = None
    problem = 'does not exist'
    if osp.exists(save_file):
        with open(save_file) as f:
            named = f.read().strip()
        if named and '://' in named:
            return named
        if named and osp.isfile(named):
            reason = checkpoint_unreadable_reason(named)
            if reason is None:
                return named
            problem = f'cannot be resumed: {reason}'
    found = []
    for name in os.listdir(path) if osp.isdir(path) else []:
        match = _NUMBERED.match(name)
        full = osp.join(path, name)
        if match and osp.isfile(full) and (
                named is None or osp.abspath(full) != osp.abspath(named)):
            found.append((match.group(1) == 'iter', int(match.group(2)),
                          name))
    latest = None
    for *_, name in sorted(found, reverse=True):
        reason = checkpoint_unreadable_reason(osp.join(path, name))
        if reason is None:
            latest = osp.join(path, name)
            break
        print_log(f'skipped {osp.join(path, name)!r} for resuming: {reason}',
                  logger='current', level=30)
    if named is None and latest is None:
        print_log('Did not find last_checkpoint to be resumed.',
                  logger='current')
        return None
    print_log(
        f'last_checkpoint in {path!r} names {named!r}, which {problem}; '
        f'the latest readable checkpoint found is {latest!r}',
        logger='current',
        level=30)
    return latest


def install_atomic_checkpoint_save() -> bool:
    """Route mmengine's ``Runner.save_checkpoint`` through the atomic writer
    and its auto-resume through :func:`find_latest_checkpoint`.

    Returns:
        bool: True when installed now, False when it already was.
    """
    global _ORIGINAL
    import mmengine.runner.checkpoint as ckpt_mod
    import mmengine.runner.runner as runner_mod
    if runner_mod.save_checkpoint is atomic_save_checkpoint:
        return False
    _ORIGINAL = ckpt_mod.save_checkpoint
    runner_mod.save_checkpoint = atomic_save_checkpoint
    runner_mod.find_latest_checkpoint = find_latest_checkpoint
    return True
