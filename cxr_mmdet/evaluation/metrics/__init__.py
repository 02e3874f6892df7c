# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .cxr_roc_metric import CXRROCMetric

__all__ = ['CXRROCMetric']
