# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Let torch's safe unpickler load mmengine/mmdet checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which only
rebuilds tensors, containers and primitive types. mmengine 0.10.7 calls
``torch.load`` without ``weights_only``, and its checkpoints also hold
``mmengine.logging.HistoryBuffer`` objects (the message hub's log scalars)
and numpy arrays, scalars and dtypes (losses, metrics, random states), so
``Runner.resume`` and ``load_from`` of its own checkpoints fail.

Rather than turning ``weights_only`` off (which would run any pickled
code), the exact types found in mmengine/mmdet checkpoints are added to
torch's allow-list with ``torch.serialization.add_safe_globals``. A
checkpoint holding any other object, such as one whose ``__reduce__``
would run a shell command, is still refused by every loading path
(``load_from``, resume, ``tools/test.py``, ``tools/infer.py``), all of which
go through ``torch.load``'s default.

One entry needs care: a ``HistoryBuffer`` pickles its ``statistics_methods``
dict as ``getattr(HistoryBuffer, 'min')`` and so on, so its checkpoints
reference ``builtins.getattr``. Allowing the real ``getattr`` would let a
pickle walk from any allowed object to ``__globals__`` and run anything, so
the name ``builtins.getattr`` is bound instead to
:func:`history_buffer_getattr`, which returns only the registered
statistics methods of ``HistoryBuffer`` and refuses everything else.

A refusal surfaces through mmengine's ``CheckpointLoader`` as
:class:`UnsafeCheckpointError` (a ``pickle.UnpicklingError``) naming the
file and the refused global, instead of torch's generic advice to retry
with ``weights_only=False``.
"""
from __future__ import annotations

import importlib
import pickle
import re

#: ``module:qualname`` of every global that mmengine/mmdet checkpoints hold
#: beyond what torch allows by default. Entries absent from the installed
#: numpy (``numpy.core`` vs ``numpy._core``) are skipped.
CHECKPOINT_SAFE_GLOBALS: tuple[str, ...] = (
    'mmengine.logging.history_buffer:HistoryBuffer',
    'numpy:ndarray',
    'numpy:dtype',
    'numpy._core.multiarray:_reconstruct',
    'numpy._core.multiarray:scalar',
    'numpy.core.multiarray:_reconstruct',
    'numpy.core.multiarray:scalar',
    # numpy >= 1.25 pickles dtypes by their class
    'numpy.dtypes:Float64DType',
    'numpy.dtypes:Float32DType',
    'numpy.dtypes:Float16DType',
    'numpy.dtypes:Int64DType',
    'numpy.dtypes:Int32DType',
    'numpy.dtypes:Int16DType',
    'numpy.dtypes:Int8DType',
    'numpy.dtypes:UInt64DType',
    'numpy.dtypes:UInt32DType',
    'numpy.dtypes:UInt16DType',
    'numpy.dtypes:UInt8DType',
    'numpy.dtypes:BoolDType',
    'numpy.dtypes:StrDType',
    'numpy.dtypes:ObjectDType',
)


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holding an object outside the allow-list."""


def refusal_message(filename: str, error: BaseException) -> str:
    """Say which file was refused and why, from torch's error."""
    text = str(error)
    match = re.search(r'GLOBAL ([\w.]+)', text)
    if match:
        reason = f'it references the global {match.group(1)!r}'
    else:
        # torch wraps the unpickler's reason between its own paragraphs
        parts = [p.strip() for p in text.split('\n\n') if p.strip()]
        reason = (parts[1] if len(parts) >= 3 else
                  parts[0] if parts else type(error).__name__)
    return (f'refused to load checkpoint {filename!r}: {reason}. Only the '
            'types on the checkpoint allow-list '
            '(cxr_mmdet.compat.CHECKPOINT_SAFE_GLOBALS) are unpickled, '
            'since anything else could run code; load checkpoints only '
            'from sources you trust.')


def history_buffer_getattr(obj, name: str):
    """``getattr`` limited to ``HistoryBuffer``'s statistics methods.

    Stands in for ``builtins.getattr`` while unpickling a checkpoint.

    Raises:
        pickle.UnpicklingError: for any other object or attribute.
    """
    import pickle

    from mmengine.logging import HistoryBuffer
    # the built-in statistics are registered when the first HistoryBuffer
    # is created, which may not have happened yet in this process
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refused getattr({obj!r}, {name!r}) in a checkpoint: only '
        'HistoryBuffer statistics methods may be looked up')


def resolve_safe_globals(names: tuple[str, ...] = CHECKPOINT_SAFE_GLOBALS
                         ) -> list:
    """Import each ``module:qualname`` that exists; skip the others."""
    found = []
    for name in names:
        module_name, qualname = name.split(':')
        try:
            obj = importlib.import_module(module_name)
            for part in qualname.split('.'):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            continue
        found.append(obj)
    return found


def install_checkpoint_allowlist() -> list:
    """Add :data:`CHECKPOINT_SAFE_GLOBALS` to torch's safe globals.

    Returns:
        list: the objects added (empty on a torch without the API).
    """
    import warnings

    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4: nothing to do, weights_only is off
        return []
    with warnings.catch_warnings():
        # numpy 2 warns when numpy.core is touched; we skip it if absent
        warnings.simplefilter('ignore', DeprecationWarning)
        objs = resolve_safe_globals()
    add(objs + [(history_buffer_getattr, 'builtins.getattr')])
    _install_refusal_message()
    return objs


def _install_refusal_message() -> None:
    """Re-raise refusals of mmengine's checkpoint loader with the file."""
    from mmengine.runner.checkpoint import CheckpointLoader
    current = CheckpointLoader.__dict__['load_checkpoint'].__func__
    if getattr(current, '_cxr_refusal', False):
        return

    def load_checkpoint(cls, filename, map_location=None, logger='current'):
        try:
            return current(cls, filename, map_location, logger)
        except UnsafeCheckpointError:
            raise
        except pickle.UnpicklingError as err:
            raise UnsafeCheckpointError(refusal_message(filename,
                                                        err)) from err

    load_checkpoint._cxr_refusal = True
    load_checkpoint.__doc__ = current.__doc__
    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)
