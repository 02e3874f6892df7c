# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Image loading that skips unreadable files instead of stopping training."""
from __future__ import annotations

import logging
import os

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CXRLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that logs and skips missing or corrupt images.

    When decoding fails (missing, zero-byte, truncated or non-image file),
    the failure is logged with the file's path and a running count, and
    ``None`` is returned: mmengine's ``BaseDataset`` then re-fetches another
    sample in training (``max_refetch``), and ``CXRVOCDataset`` raises an
    error naming the file in test mode, where no sample may be replaced.

    Args:
        skip_bad (bool): Return None on a bad image (True) or raise.
        **kwargs: passed to ``LoadImageFromFile``.
    """

    def __init__(self, skip_bad: bool = True, **kwargs) -> None:
        kwargs.setdefault('ignore_empty', False)
        super().__init__(**kwargs)
        self.skip_bad = skip_bad
        self.num_skipped = 0

    def transform(self, results: dict) -> dict | None:
        """Load the image; on failure log the path and return None."""
        try:
            return super().transform(results)
        except Exception as e:  # decode errors come in many types
            if not self.skip_bad:
                raise
            self.num_skipped += 1
            print_log(
                f'CXRLoadImageFromFile: skipped unreadable image '
                f'{results.get("img_path")!r} ({type(e).__name__}: {e}); '
                f'{self.num_skipped} skipped so far in process {os.getpid()}',
                logger='current',
                level=logging.WARNING)
            return None
