# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .loading import CXRLoadImageFromFile

__all__ = ['CXRLoadImageFromFile']
