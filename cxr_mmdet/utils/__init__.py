# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .xrv_tables import (NIH_BBOX_TABLE, NIH_DATA_ENTRY_TABLE, VINBIG_TABLE,
                         find_xrv_table)

__all__ = [
    'find_xrv_table', 'NIH_BBOX_TABLE', 'NIH_DATA_ENTRY_TABLE', 'VINBIG_TABLE'
]
