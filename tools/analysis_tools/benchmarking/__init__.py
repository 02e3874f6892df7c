# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Speed and memory benchmarks of the plugin against torchvision's SSD300
and the machine (``tools/benchmark.py`` prints and saves them)."""
from .data_pipeline import (benchmark_data_pipeline, build_train_dataloader,
                            time_dataloader, write_synthetic_voc)
from .detectors import (FRAMEWORKS, Detector, build_detectors,
                        build_plugin_detector, build_torchvision_detector)
from .evaluation import (benchmark_evaluation, build_evaluator,
                         synthetic_eval_samples)
from .machine import cpu_model_name, describe_machine, matmul_rate
from .memory import (measure_peak_rss, peak_rss_in_subprocess,
                     peak_rss_in_subprocesses)
from .report import format_table, goal_values, machine_line
from .suite import SECTIONS, BenchmarkSettings, run_suite
from .synthetic import (SyntheticBatch, mmdet_inputs, synthetic_batch,
                        torchvision_inputs)
from .timing import count_flops, time_interleaved
from .training import benchmark_inference, benchmark_training, flop_rate

__all__ = [
    'benchmark_data_pipeline', 'build_train_dataloader', 'time_dataloader',
    'write_synthetic_voc', 'FRAMEWORKS', 'Detector', 'build_detectors',
    'build_plugin_detector', 'build_torchvision_detector',
    'benchmark_evaluation', 'build_evaluator', 'synthetic_eval_samples',
    'cpu_model_name', 'describe_machine', 'matmul_rate', 'measure_peak_rss',
    'peak_rss_in_subprocess', 'peak_rss_in_subprocesses', 'format_table',
    'goal_values', 'machine_line', 'SECTIONS', 'BenchmarkSettings',
    'run_suite', 'SyntheticBatch', 'mmdet_inputs', 'synthetic_batch',
    'torchvision_inputs', 'count_flops', 'time_interleaved',
    'benchmark_inference', 'benchmark_training', 'flop_rate'
]
