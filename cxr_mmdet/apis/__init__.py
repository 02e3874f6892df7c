# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .checkpoint import (CheckpointError, check_checkpoint_file,
                         check_checkpoint_fits, load_checkpoint_strict,
                         read_checkpoint)
from .cli import add_runner_args, exit_on_user_error, parse_runner_args
from .inference import (collect_inputs, inference_exit_code, predict_images,
                        run_inference)
from .operating_points import (OPERATING_POINTS_FILE, achieved_on,
                               format_operating_points,
                               operating_point_thresholds,
                               read_operating_points,
                               runner_operating_points)
from .intervals import (DEFAULT_BOOTSTRAP, DEFAULT_CI_LEVEL,
                        evaluated_images, runner_intervals, write_intervals)
from .imbalance_ablation import (DEMO_CONFIG, IMBALANCE_VARIANTS,
                                 ablation_cfg, apply_imbalance_remedy,
                                 format_ablation_markdown,
                                 imbalance_remedy, run_imbalance_ablation,
                                 write_ablation_table)
from .run_config import build_test_cfg, build_train_cfg, split_ann_file
from .summary import (format_interval, format_summary, summarize_metrics,
                      write_summary)
from .train_test import EvalResult, evaluate_checkpoint, train_detector

__all__ = [
    'DEMO_CONFIG', 'IMBALANCE_VARIANTS', 'ablation_cfg',
    'apply_imbalance_remedy', 'format_ablation_markdown', 'imbalance_remedy',
    'run_imbalance_ablation', 'write_ablation_table',
    'collect_inputs', 'predict_images', 'run_inference',
    'inference_exit_code', 'build_train_cfg', 'build_test_cfg',
    'split_ann_file', 'EvalResult', 'evaluate_checkpoint', 'train_detector',
    'summarize_metrics', 'format_summary', 'write_summary',
    'CheckpointError', 'check_checkpoint_file', 'check_checkpoint_fits',
    'load_checkpoint_strict', 'read_checkpoint', 'exit_on_user_error',
    'add_runner_args', 'parse_runner_args', 'DEFAULT_BOOTSTRAP',
    'DEFAULT_CI_LEVEL', 'evaluated_images', 'runner_intervals',
    'write_intervals', 'format_interval', 'OPERATING_POINTS_FILE',
    'achieved_on', 'format_operating_points', 'operating_point_thresholds',
    'read_operating_points', 'runner_operating_points'
]
