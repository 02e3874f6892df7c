# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .bf16_optim_wrapper import (BF16OptimWrapper, cpu_bf16_supported,
                                 resolve_bf16)

__all__ = ['BF16OptimWrapper', 'cpu_bf16_supported', 'resolve_bf16']
