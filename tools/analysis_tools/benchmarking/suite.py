# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The benchmark's sections, one function each, and the run of them all."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Callable

from .detectors import (INFERENCE_ONLY, VARIANTS, build_detectors,
                        config_uses_channels_last, load_config,
                        synthetic_batch)
from .timing_memory import (MemoryChild, count_flops, describe_machine,
                            matmul_rate, peak_rss_in_subprocesses,
                            profile_step, time_interleaved)
from .workloads import (benchmark_data_pipeline, benchmark_evaluation,
                        time_image_conversion, time_tables)

#: Every section, in the order the suite runs them.
SECTIONS = ('ceiling', 'training', 'inference', 'data_pipeline', 'data_prep',
            'evaluation', 'memory')
#: The reference every plugin variant is compared with, and the one of
#: like-for-like bf16.
REFERENCE = 'torchvision_fp32'
REFERENCE_BF16 = 'torchvision_bf16'


@dataclass
class BenchmarkSettings:
    """Sizes of a benchmark run (the defaults are the full run).

    ``memory_overlap`` starts the memory children first, so that they run
    beside the other sections (quick runs only: it disturbs the timings).
    """
    config: str
    batch_size: int = 8
    image_size: int = 300
    warmup: int = 1
    iters: int = 5
    variants: tuple[str, ...] = tuple(VARIANTS)
    matmul_size: int = 4096
    matmul_repeats: int = 5
    pipeline_images: int = 64
    pipeline_batches: int = 24
    pipeline_workers: int | None = None
    prep_repeat: int = 3
    png_images: int = 24
    dicom_images: int = 8
    dicom_shape: tuple[int, int] = (2400, 2000)
    conversion_workers: tuple[int, ...] = (1, 2)
    eval_images: int = 1000
    eval_dets_per_image: int = 200
    memory_steps: int = 2
    memory_parallel: int = 2
    memory_variants: tuple[str, ...] = ('plugin_fp32_nhwc', REFERENCE)
    memory_modes: tuple[str, ...] = ('train', 'infer')
    memory_overlap: bool = False
    profile: bool = False
    sections: tuple[str, ...] = SECTIONS

    @classmethod
    def quick(cls, config: str) -> 'BenchmarkSettings':
        """A tiny run for the test suite: every section, small sizes, the
        bf16 plugin against both torchvision variants."""
        return cls(
            config=config,
            batch_size=1,
            variants=('plugin_bf16_nhwc', REFERENCE, REFERENCE_BF16),
            warmup=0,
            iters=1,
            matmul_size=512,
            matmul_repeats=2,
            pipeline_images=8,
            pipeline_batches=3,
            prep_repeat=1,
            png_images=2,
            dicom_images=1,
            dicom_shape=(600, 500),
            conversion_workers=(1, ),
            eval_images=50,
            eval_dets_per_image=50,
            memory_steps=1,
            memory_variants=('plugin_fp32_nhwc', ),
            memory_modes=('train', ),
            memory_overlap=True)


@contextlib.contextmanager
def quiet_mmengine(level: int = logging.WARNING):
    """Lower mmengine's logger to ``level`` (weight-init and COCO summaries
    are not benchmark output)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def precision_of(variant: str) -> str:
    """``'fp32'`` or ``'bf16'``: the precision of a :data:`VARIANTS` name."""
    return VARIANTS[variant][1]


def _ratios(timed: dict, name: str, ref: str) -> dict:
    """Best-step and median-step ratio of ``name`` over ``ref``, and the
    lowest and highest ratio of one round's pair of steps."""
    rounds = [
        r / p for p, r in zip(timed[name]['step_s'], timed[ref]['step_s'])
    ]
    return dict(
        ratio=timed[name]['images_per_s'] / timed[ref]['images_per_s'],
        median_ratio=(timed[name]['median_images_per_s'] /
                      timed[ref]['median_images_per_s']),
        ratio_range=[min(rounds), max(rounds)])


def compare(timed: dict, batch_size: int, warmup: int, iters: int) -> dict:
    """Timings of every variant with, per plugin variant, its ratios over
    torchvision fp32 (``vs_torchvision_fp32``) and for bf16 also over
    torchvision bf16 (``vs_torchvision_bf16``)."""
    out = dict(batch_size=batch_size, warmup=warmup, iters=iters)
    out.update(timed)
    for name in timed:
        if VARIANTS[name][0] != 'plugin':
            continue
        for ref in (REFERENCE, REFERENCE_BF16):
            if ref in timed and (ref == REFERENCE or
                                 precision_of(name) == 'bf16'):
                timed[name][f'vs_{ref}'] = _ratios(timed, name, ref)
    return out


def section_ceiling(settings: BenchmarkSettings) -> dict:
    """The fp32 and bf16 ``torch.mm`` rates at ``matmul_size``."""
    return {
        precision: matmul_rate(settings.matmul_size, settings.matmul_repeats,
                               precision)
        for precision in ('fp32', 'bf16')
    }


def section_training(detectors: dict, settings: BenchmarkSettings) -> dict:
    """Training images/s of every variant, side by side.

    The first step of one variant per framework runs under a FLOP counter
    (untimed; an extra warm-up); then every variant runs ``warmup``
    untimed steps and ``iters`` timed steps taken in turns. Each
    variant's ``achieved_gflops`` is a step's FLOPs over its best time.
    """
    flops = {}
    for name, det in detectors.items():
        framework = VARIANTS[name][0]
        if framework not in flops and name not in INFERENCE_ONLY:
            flops[framework] = count_flops(det.train_step)
    timed = time_interleaved(
        {name: det.train_step
         for name, det in detectors.items() if name not in INFERENCE_ONLY},
        settings.batch_size, settings.warmup, settings.iters)
    for name, figures in timed.items():
        counted = flops[VARIANTS[name][0]]
        figures['flops'] = counted['total']
        figures['flops_by_op'] = counted['by_op']
        figures['achieved_gflops'] = (
            counted['total'] / figures['min_step_s'] / 1e9)
    return compare(timed, settings.batch_size, settings.warmup,
                   settings.iters)


def section_inference(detectors: dict, settings: BenchmarkSettings) -> dict:
    """Inference images/s (preprocessing, forward, decoding, NMS) of every
    variant, side by side.

    Each framework keeps its stock test settings: the plugin its config's
    ``test_cfg`` with boxes rescaled to the original image, torchvision its
    defaults. With random weights most anchors score above both score
    thresholds, so NMS works at its worst case.
    """
    timed = time_interleaved(
        {name: det.infer_step
         for name, det in detectors.items()}, settings.batch_size,
        settings.warmup, settings.iters)
    return compare(timed, settings.batch_size, settings.warmup,
                   settings.iters)


def section_profile(detectors: dict) -> dict:
    """One profiled training and inference step of every variant
    (:func:`profile_step`: the dense ops' share of the time)."""
    return {
        mode: {
            name: profile_step(det.train_step if mode ==
                               'training' else det.infer_step)
            for name, det in detectors.items()
        }
        for mode in ('training', 'inference')
    }


def section_data_pipeline(cfg, settings: BenchmarkSettings,
                          consumption: float | None) -> dict:
    """The config's training data pipeline on a synthetic VOC tree,
    against the model's training images/s (``consumption``)."""
    with tempfile.TemporaryDirectory() as tmp:
        return benchmark_data_pipeline(
            cfg,
            tmp,
            settings.pipeline_images,
            settings.batch_size,
            settings.pipeline_batches,
            num_workers=settings.pipeline_workers,
            consumption=consumption)


def section_data_prep(settings: BenchmarkSettings) -> dict:
    """Table work on the real tables, and image conversion."""
    return dict(
        tables_s=time_tables(settings.prep_repeat),
        image_conversion=time_image_conversion(settings.png_images,
                                               settings.dicom_images,
                                               settings.dicom_shape,
                                               settings.conversion_workers))


def section_evaluation(cfg, settings: BenchmarkSettings) -> dict:
    """The config's evaluators over synthetic predictions."""
    # pycocotools prints its summaries: not benchmark output
    with contextlib.redirect_stdout(io.StringIO()):
        return benchmark_evaluation(cfg, settings.eval_images,
                                    settings.eval_dets_per_image)


def section_memory(settings: BenchmarkSettings,
                   children: list[MemoryChild]) -> dict:
    """Peak resident memory of a training and an inference step of each
    memory variant, each in a fresh process (``children`` already
    started, or started here)."""
    if children:
        found = [child.result() for child in children]
    else:
        jobs = [(name, mode) for mode in settings.memory_modes
                for name in settings.memory_variants]
        found = peak_rss_in_subprocesses(jobs, settings.config,
                                         settings.batch_size,
                                         settings.memory_steps,
                                         settings.memory_parallel)
    out: dict = {mode: {} for mode in settings.memory_modes}
    for item in found:
        out[item['mode']][item['variant']] = item
    return out


def run_suite(settings: BenchmarkSettings,
              log: Callable[[str], None] | None = None) -> dict:
    """Run the sections of ``settings.sections``; return every figure.

    Returns:
        dict: ``machine``, ``settings`` and one entry per section run;
        ``seconds`` per section.
    """
    unknown = [s for s in settings.sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f'unknown sections {unknown!r}; known: '
                         f'{list(SECTIONS)!r}')
    say = log or (lambda msg: None)
    figures: dict = dict(machine=describe_machine())
    figures['settings'] = asdict(settings)
    seconds: dict = {}
    sections = set(settings.sections)

    def timed(name, fn):
        say(f'benchmark: {name} ...')
        start = time.perf_counter()
        with quiet_mmengine():
            result = fn()
        seconds[name] = round(time.perf_counter() - start, 2)
        return result

    children = []
    if 'memory' in sections and settings.memory_overlap:
        children = [
            MemoryChild(name, mode, settings.config, settings.batch_size,
                        settings.memory_steps)
            for mode in settings.memory_modes
            for name in settings.memory_variants
        ]
    # parsed once (mmdet's base configs take a second to read)
    cfg = load_config(settings.config)
    figures['settings']['config_uses_channels_last'] = (
        config_uses_channels_last(cfg))

    ceiling = None
    if 'ceiling' in sections:
        ceiling = timed('ceiling', lambda: section_ceiling(settings))
    detectors = None
    if sections & {'training', 'inference'}:
        batch = synthetic_batch(settings.batch_size, settings.image_size)
        detectors = timed(
            'build', lambda: build_detectors(cfg, batch, settings.variants))
    if 'training' in sections:
        figures['training'] = timed(
            'training',
            lambda: section_training(detectors, settings))
    if 'inference' in sections:
        figures['inference'] = timed(
            'inference', lambda: section_inference(detectors, settings))
    if settings.profile and detectors is not None:
        figures['profile'] = timed('profile',
                                   lambda: section_profile(detectors))
    detectors = None  # free the models before the data sections
    if ceiling is not None:
        # the machine's rate: the best of before and after the models
        again = section_ceiling(settings)
        for precision, first in ceiling.items():
            runs = [first['best_gflops'], again[precision]['best_gflops']]
            best = max((first, again[precision]),
                       key=lambda m: m['best_gflops'])
            ceiling[precision] = dict(best, runs=runs)
        figures['ceiling'] = ceiling
        # each training rate as a share of its own precision's ceiling
        if 'training' in figures:
            for name, row in figures['training'].items():
                if name in VARIANTS:
                    top = ceiling[precision_of(name)]['best_gflops']
                    row['share_of_ceiling'] = row['achieved_gflops'] / top
    if 'data_pipeline' in sections:
        # against the fastest plugin variant's consumption
        rates = [
            figures['training'][name]['images_per_s']
            for name in settings.variants
            if 'training' in figures and VARIANTS[name][0] == 'plugin'
            and name not in INFERENCE_ONLY
        ]
        consumption = max(rates) if rates else None
        figures['data_pipeline'] = timed(
            'data_pipeline',
            lambda: section_data_pipeline(cfg, settings, consumption))
    if 'data_prep' in sections:
        figures['data_prep'] = timed('data_prep',
                                     lambda: section_data_prep(settings))
    if 'evaluation' in sections:
        figures['evaluation'] = timed(
            'evaluation', lambda: section_evaluation(cfg, settings))
    if 'memory' in sections:
        figures['memory'] = timed('memory',
                                  lambda: section_memory(settings, children))
    figures['seconds'] = seconds
    # a busy machine slows everything: the load at the end is kept too
    figures['machine']['load_average_end'] = [
        round(x, 2) for x in os.getloadavg()
    ]
    return figures


__all__ = [
    'SECTIONS', 'BenchmarkSettings', 'run_suite', 'section_ceiling',
    'section_training', 'section_inference', 'section_profile',
    'section_data_pipeline', 'section_data_prep', 'section_evaluation',
    'section_memory', 'compare', 'precision_of'
]
