# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .version import __version__

__all__ = ['__version__']
