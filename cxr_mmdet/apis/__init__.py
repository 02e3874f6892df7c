# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .inference import collect_inputs, predict_images, run_inference
from .run_config import build_test_cfg, build_train_cfg, split_ann_file
from .summary import format_summary, summarize_metrics, write_summary
from .train_test import EvalResult, evaluate_checkpoint, train_detector

__all__ = [
    'collect_inputs', 'predict_images', 'run_inference',
    'build_train_cfg', 'build_test_cfg', 'split_ann_file',
    'summarize_metrics', 'format_summary', 'write_summary', 'EvalResult',
    'evaluate_checkpoint', 'train_detector'
]
