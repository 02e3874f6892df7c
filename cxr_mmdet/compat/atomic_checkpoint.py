# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write local checkpoints atomically.

mmengine 0.10.7 writes a checkpoint straight to its final name, so a
process killed during the write leaves a truncated ``epoch_N.pth`` (and a
``last_checkpoint`` pointing at it). The replacement below writes local
checkpoints to a temporary file in the same folder, fsyncs it and renames
it over the target (``os.replace`` is atomic on POSIX), so a kill leaves
either the old file or the new one, never half of one. Remote URIs keep
mmengine's own path.
"""
from __future__ import annotations

import io
import os
import os.path as osp
import tempfile

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
    filename = osp.abspath(filename)
    folder = osp.dirname(filename)
    os.makedirs(folder, exist_ok=True)
    with io.BytesIO() as buffer:
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
    fd, tmp_path = tempfile.mkstemp(
        prefix=f'.{osp.basename(filename)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filename)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def install_atomic_checkpoint_save() -> bool:
    """Route mmengine's ``Runner.save_checkpoint`` through the atomic writer.

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
    return True
