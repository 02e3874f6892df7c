# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""How the tools end on a bad input: one line naming it, exit status 1."""
from __future__ import annotations

import contextlib
import pickle
import sys
from collections.abc import Iterator

#: Errors that describe a bad input (file, option, value) in their message;
#: anything else is a fault of the code and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
    IsADirectoryError, PermissionError, pickle.UnpicklingError)


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
