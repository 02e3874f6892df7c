# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .wbf_ensemble import CXRWBFEnsemble

__all__ = ['CXRWBFEnsemble']
