# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Inference speed of the deployment backends against torchvision.

Every row detects on the same synthetic radiographs with NMS included:
the config's SSD300 (its weights seeded once, shared by every row) in
PyTorch fp32 and bf16 autocast (channels-last, mmdet's data preprocessor,
head and NMS: :func:`~benchmarking.detectors.build_plugin_detector`), and
its ONNX export on ONNX Runtime and OpenVINO (numpy pre-processing, the
graph, numpy/torchvision post-processing:
:class:`cxr_mmdet.deployment.BackendDetector`), beside torchvision's
``ssd300_vgg16`` in fp32. Batch 8 gives images/s, batch 1 the latency.
"""
from __future__ import annotations

import os.path as osp
from collections.abc import Callable
from typing import Any

from .detectors import (build_plugin_detector, build_torchvision_detector,
                        synthetic_batch)
from .timing_memory import time_interleaved

#: Row name -> words in the table.
ROWS = {
    'torchvision_fp32': 'torchvision ssd300_vgg16 fp32',
    'pytorch_fp32': 'PyTorch fp32 (NHWC)',
    'pytorch_bf16': 'PyTorch bf16 autocast (NHWC)',
    'onnxruntime': 'ONNX Runtime fp32',
    'openvino_f32': 'OpenVINO f32',
    'openvino_bf16': 'OpenVINO bf16',
}
REFERENCE = 'torchvision_fp32'


def export_plugin(config: str, out_dir: str) -> tuple[Any, str]:
    """Build the config's detector (seeded weights) and export it.

    Returns:
        tuple: the PyTorch model and the ``.onnx`` path.
    """
    import torch
    from mmdet.registry import MODELS

    from cxr_mmdet.classes import CXR_CLASSES
    from cxr_mmdet.deployment import export_detector, pipeline_input_size

    from .detectors import load_config
    cfg = load_config(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.dataset_meta = dict(classes=list(CXR_CLASSES))
    onnx_path, _ = export_detector(model, pipeline_input_size(cfg),
                                   osp.join(out_dir, 'benchmark.onnx'))
    return model, onnx_path


def backend_steps(config: str,
                  model,
                  onnx_path: str,
                  batch_size: int,
                  rows: tuple[str, ...] = tuple(ROWS),
                  ort_opt_level: str = 'all',
                  threads: int | None = None,
                  ov_hint: str | None = None) -> dict[str, Callable]:
    """One inference step per row on a batch of ``batch_size``.

    ``ov_hint`` None: OpenVINO's ``THROUGHPUT`` hint for batches, its
    ``LATENCY`` hint for one image.
    """
    from cxr_mmdet.deployment import ONNXRuntimeDetector, OpenVINODetector
    batch = synthetic_batch(batch_size, seed=1)
    images = [img.transpose(1, 2, 0).copy() for img in batch.images]
    hint = ov_hint or ('THROUGHPUT' if batch_size > 1 else 'LATENCY')
    steps: dict[str, Callable] = {}
    for row in rows:
        if row == 'torchvision_fp32':
            steps[row] = build_torchvision_detector(batch, 'fp32',
                                                    'nchw').infer_step
        elif row in ('pytorch_fp32', 'pytorch_bf16'):
            det = build_plugin_detector(config, batch, row[-4:], 'nhwc', row)
            det.model.load_state_dict(model.state_dict())
            steps[row] = det.infer_step
        elif row == 'onnxruntime':
            ort = ONNXRuntimeDetector(onnx_path, threads=threads,
                                      opt_level=ort_opt_level)
            steps[row] = lambda d=ort: d.predict(images)
        elif row.startswith('openvino_'):
            ov = OpenVINODetector(onnx_path, hint=hint,
                                  precision=row.split('_')[1],
                                  threads=threads)
            steps[row] = lambda d=ov: d.predict(images)
        else:
            raise ValueError(f'unknown row {row!r}; known: {list(ROWS)}')
    return steps


def run_backend_benchmark(config: str,
                          out_dir: str,
                          rows: tuple[str, ...] = tuple(ROWS),
                          batch_size: int = 8,
                          warmup: int = 1,
                          iters: int = 3,
                          ort_opt_level: str = 'all',
                          threads: int | None = None,
                          ov_hint: str | None = None) -> dict:
    """Time every row at ``batch_size`` and at batch 1, interleaved.

    Returns:
        dict: ``batch`` and ``single`` (:func:`time_interleaved`'s figures
        per row, plus ``vs_torchvision_fp32``: images/s ratio, or latency
        ratio for ``single``), and the options.
    """
    from cxr_mmdet.engine.optim_wrappers import cpu_bf16_supported
    model, onnx_path = export_plugin(config, out_dir)
    figures: dict[str, Any] = dict(
        config=config, rows=list(rows), batch_size=batch_size,
        warmup=warmup, iters=iters, ort_opt_level=ort_opt_level,
        threads=threads, ov_hint=ov_hint,
        cpu_bf16_native=cpu_bf16_supported())
    for key, size in (('batch', batch_size), ('single', 1)):
        steps = backend_steps(config, model, onnx_path, size, rows,
                              ort_opt_level, threads, ov_hint)
        timed = time_interleaved(steps, size, warmup, iters)
        ref = timed.get(REFERENCE)
        for name, row in timed.items():
            row['latency_ms'] = 1000 * row['min_step_s'] / size
            if ref is not None:
                row[f'vs_{REFERENCE}'] = (row['images_per_s'] /
                                          ref['images_per_s'])
        figures[key] = timed
    return figures


def format_backend_table(figures: dict) -> str:
    """Rows side by side: batch images/s, its ratio to torchvision fp32,
    batch-1 latency and its ratio (torchvision's latency over the row's)."""
    from terminaltables import GithubFlavoredMarkdownTable
    batch, single = figures['batch'], figures['single']
    size = figures['batch_size']
    header = ('backend', f'img/s batch {size}', 'vs torchvision',
              'latency batch 1 (ms)', 'vs torchvision')
    lines = [header]
    for name in figures['rows']:
        b, s = batch.get(name), single.get(name)
        label = ROWS[name]
        if 'bf16' in name and not figures.get('cpu_bf16_native', True):
            # what BF16OptimWrapper(enabled='auto') would not choose here
            label += ' (no native bf16: emulated)'
        lines.append((
            label, f'{b["images_per_s"]:.2f}',
            f'{b.get("vs_" + REFERENCE, float("nan")):.2f}x',
            f'{s["latency_ms"]:.0f}',
            f'{s.get("vs_" + REFERENCE, float("nan")):.2f}x'))
    return GithubFlavoredMarkdownTable(lines).table


def fastest_vs_reference(figures: dict) -> tuple[str, float]:
    """The row with the highest batch images/s and its ratio."""
    rows = {k: v for k, v in figures['batch'].items() if k != REFERENCE}
    name = max(rows, key=lambda k: rows[k]['images_per_s'])
    return name, rows[name].get(f'vs_{REFERENCE}', float('nan'))
