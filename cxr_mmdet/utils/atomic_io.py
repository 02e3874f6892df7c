# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Atomic writes of a file and of a whole folder (standard library only).

- :func:`atomic_write_bytes`: write a file to a temporary name in its
  folder, fsync, and ``os.replace`` it over the target, so a kill leaves
  the old file or the new one (the checkpoint writer uses it).
- :func:`replace_folder`: swap a finished temporary folder in for an
  output folder; :func:`recover_interrupted_swap` cleans up after a kill
  (data preparation uses both).
- :func:`folder_lock`: an exclusive ``fcntl`` lock beside a folder, so two
  processes cannot build the same output at once.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import os.path as osp
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path


def atomic_write_bytes(data: bytes, filename: str | os.PathLike) -> None:
    """Write ``data`` to ``filename`` atomically (same-folder rename).

    A temporary ``.<name>.<random>.tmp`` left by a killed earlier write of
    the same name is removed after the write succeeds.
    """
    filename = osp.abspath(os.fspath(filename))
    folder = osp.dirname(filename)
    os.makedirs(folder, exist_ok=True)
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
    remove_stale_temporaries(filename)


def remove_stale_temporaries(filename: str | os.PathLike) -> None:
    """Delete what killed :func:`atomic_write_bytes` calls left behind."""
    filename = os.fspath(filename)
    pattern = osp.join(
        glob.escape(osp.dirname(filename)),
        f'.{glob.escape(osp.basename(filename))}.*.tmp')
    for stale in glob.glob(pattern):
        try:
            os.remove(stale)
        except OSError:
            pass


def temporary_folder(out: Path) -> Path:
    """The temporary folder this process builds ``out`` in."""
    return out.parent / f'.{out.name}.tmp-{os.getpid()}'


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def recover_interrupted_swap(out: str | os.PathLike) -> list[str]:
    """Clean up after a process killed while it built ``out``.

    Folders ``.<name>.tmp-<pid>`` and ``.<name>.old-<pid>`` beside ``out``
    whose process no longer runs are leftovers: a temporary output is
    removed; an old output is moved back to ``out`` if ``out`` is missing
    (the kill fell between the two renames of :func:`replace_folder`), else
    removed.

    Returns:
        list[str]: what was done, one line per folder.
    """
    out = Path(out).resolve()
    if not out.parent.is_dir():
        return []
    done = []
    for kind in ('old', 'tmp'):
        for path in sorted(out.parent.glob(f'.{glob.escape(out.name)}.'
                                           f'{kind}-*')):
            pid = path.name.rsplit('-', 1)[1]
            if not pid.isdigit() or _pid_alive(int(pid)):
                continue
            if kind == 'old' and not out.exists():
                path.rename(out)
                done.append(f'restored {os.fspath(out)} from {path.name}')
            else:
                shutil.rmtree(path, ignore_errors=True)
                done.append(f'removed {path.name}')
    return done


def replace_folder(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``, replacing an old ``out`` at the last step."""
    if out.exists():
        old = out.parent / f'.{out.name}.old-{os.getpid()}'
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)


class FolderLockedError(RuntimeError):
    """Another process holds the lock of the folder."""


def lock_path(out: Path) -> Path:
    """The lock file that guards ``out`` (beside it)."""
    return out.parent / f'.{out.name}.lock'


@contextlib.contextmanager
def folder_lock(out: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive, non-blocking ``fcntl`` lock on ``out``.

    The lock file ``.<name>.lock`` beside ``out`` records the holder
    (``pid@host``) and is removed on release. The lock itself dies with
    its process, so a killed run never blocks the next one (it leaves the
    file, which the next run takes over).

    Raises:
        FolderLockedError: If another process holds it; the message names
            the lock file and its holder.
        PermissionError: If the lock file cannot be created.
    """
    out = Path(out).resolve()
    path = lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors='replace').strip()
            os.close(fd)
            raise FolderLockedError(
                f'{os.fspath(out)!r} is being written by another run '
                f'(lock {os.fspath(path)!r} held by '
                f'{holder or "an unknown process"}); wait for it to finish '
                'or choose another output folder') from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        # the holder removed the file between our open and our lock
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f'pid {os.getpid()}@{socket.gethostname()}\n'.encode(),
                  0)
        yield path
    finally:
        try:
            os.remove(path)
        except OSError:
            pass
        os.close(fd)
