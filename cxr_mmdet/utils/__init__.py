# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Standard-library helpers shared by data preparation and the compat fixes."""
from .atomic_io import (FolderLockedError, atomic_write_bytes, folder_lock,
                        recover_interrupted_swap)

__all__ = [
    'FolderLockedError', 'atomic_write_bytes', 'folder_lock',
    'recover_interrupted_swap'
]
