# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""cxr_mmdet: an MMDetection 3.x plugin for chest X-ray abnormality detection.

Importing the package checks the OpenMMLab versions, applies the fixes in
:mod:`cxr_mmdet.compat` and registers every component into mmdet's own
registries (``custom_imports = dict(imports=['cxr_mmdet'])`` in a config).
"""
from .compat import (check_versions, install_atomic_checkpoint_save,
                     install_checkpoint_allowlist, install_cpu_distributed,
                     install_ssd_head_fp32, install_ssd_head_predict_fix,
                     install_torchvision_nms)
from .version import __version__

check_versions()
install_checkpoint_allowlist()
install_ssd_head_predict_fix()
install_atomic_checkpoint_save()
install_cpu_distributed()
install_torchvision_nms()
install_ssd_head_fp32()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .classes import CXR_CLASSES, CXR_PALETTE  # noqa: E402

__all__ = ['__version__', 'CXR_CLASSES', 'CXR_PALETTE']
