# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""What the tools share: mmdet's runner options, and how they end on a bad
input (one line naming it, exit status 1)."""
from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import sys
from collections.abc import Iterator

from ..deployment.extras import MissingExtraError

#: Errors that describe a bad input (file, option, value) in their message;
#: anything else is a fault of the code and keeps its traceback. A missing
#: optional extra says how to install it.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
    IsADirectoryError, PermissionError, pickle.UnpicklingError,
    MissingExtraError)


@contextlib.contextmanager
def exit_on_user_error(tool: str) -> Iterator[None]:
    """Turn a :data:`USER_ERRORS` error into ``<tool>: error: <message>``
    on stderr and exit status 1."""
    try:
        yield
    except USER_ERRORS as err:
        message = str(err) or type(err).__name__
        if isinstance(err, OSError) and err.filename is not None \
                and str(err.filename) not in message:
            message = f'{err.filename}: {message}'
        sys.exit(f'{tool}: error: {message}')


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add mmdet's ``--cfg-options``, ``--launcher`` and ``--local_rank``
    options (those of its ``tools/train.py`` and ``tools/test.py``)."""
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy format')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; ``LOCAL_RANK`` defaults to ``--local_rank`` (as
    mmdet's tools set it)."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
