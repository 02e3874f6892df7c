# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Import the optional ``deploy`` packages on first use."""
from __future__ import annotations

import importlib
from types import ModuleType


class MissingExtraError(ModuleNotFoundError):
    """An optional package of the ``deploy`` extra is not installed."""


def require(module: str, extra: str = 'deploy') -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` saying how to
    install it (``pip install -e .[deploy]``)."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(
            f'{module} is not installed ({err}); install the {extra!r} '
            f"extra: pip install -e '.[{extra}]' (requirements/"
            f'{extra}.txt)', name=module) from err
