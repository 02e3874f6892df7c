# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .inference import collect_inputs, predict_images, run_inference
from .report import format_summary, summarize_metrics, write_summary
from .run_config import build_test_cfg, build_train_cfg

__all__ = [
    'collect_inputs', 'predict_images', 'run_inference',
    'build_train_cfg', 'build_test_cfg', 'summarize_metrics',
    'format_summary', 'write_summary'
]
