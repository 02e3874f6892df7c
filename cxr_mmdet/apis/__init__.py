# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .imbalance_ablation import (DEMO_CONFIG, IMBALANCE_VARIANTS,
                                 ablation_cfg, apply_imbalance_remedy,
                                 format_ablation_markdown,
                                 imbalance_remedy, run_imbalance_ablation,
                                 write_ablation_table)
from .inference import collect_inputs, predict_images, run_inference
from .report import format_summary, summarize_metrics, write_summary
from .run_config import build_test_cfg, build_train_cfg

__all__ = [
    'DEMO_CONFIG', 'IMBALANCE_VARIANTS', 'ablation_cfg',
    'apply_imbalance_remedy', 'format_ablation_markdown', 'imbalance_remedy',
    'run_imbalance_ablation', 'write_ablation_table',
    'collect_inputs', 'predict_images', 'run_inference',
    'build_train_cfg', 'build_test_cfg', 'summarize_metrics',
    'format_summary', 'write_summary'
]
