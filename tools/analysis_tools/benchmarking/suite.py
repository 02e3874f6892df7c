# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Run every benchmark section and gather one dict of figures."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Callable

#: Every section, in the order the suite runs them.
SECTIONS = ('training', 'inference', 'data_pipeline', 'data_prep',
            'evaluation', 'memory')


@dataclass
class BenchmarkSettings:
    """Sizes of a benchmark run (the defaults are the full run).

    ``channels_last`` also times channels-last copies of both detectors;
    ``profile`` profiles one step of each; ``memory_overlap`` starts the
    memory children first, so that they run beside the other sections
    (for quick runs only: it disturbs the timings).
    """
    config: str
    batch_size: int = 8
    image_size: int = 300
    warmup: int = 1
    iters: int = 5
    matmul_size: int = 2048
    matmul_repeats: int = 5
    pipeline_images: int = 64
    pipeline_batches: int = 24
    pipeline_workers: int | None = None
    eval_images: int = 1000
    eval_dets_per_image: int = 200
    memory_steps: int = 2
    memory_parallel: int = 2
    memory_frameworks: tuple[str, ...] = ('plugin', 'torchvision')
    memory_modes: tuple[str, ...] = ('train', 'infer')
    memory_overlap: bool = False
    channels_last: bool = True
    profile: bool = False
    sections: tuple[str, ...] = SECTIONS

    @classmethod
    def quick(cls, config: str) -> 'BenchmarkSettings':
        """A tiny run for the test suite: every section, small sizes."""
        return cls(
            config=config,
            batch_size=1,
            warmup=0,
            iters=1,
            matmul_size=1024,
            matmul_repeats=2,
            pipeline_images=8,
            pipeline_batches=3,
            eval_images=50,
            eval_dets_per_image=50,
            memory_steps=1,
            memory_frameworks=('plugin', ),
            memory_modes=('train', ),
            memory_overlap=True,
            channels_last=False)


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


def profile_detectors(detectors: dict) -> dict:
    """One profiled training and inference step of the plugin and of
    torchvision (:func:`~cxr_mmdet.benchmarks.timing.profile_step`)."""
    from .detectors import FRAMEWORKS
    from .timing import profile_step
    return {
        mode: {
            name:
            profile_step(detectors[name].train_step if mode ==
                         'training' else detectors[name].infer_step)
            for name in FRAMEWORKS
        }
        for mode in ('training', 'inference')
    }


def run_suite(settings: BenchmarkSettings,
              data_prep: Callable[[], dict] | None = None,
              log: Callable[[str], None] | None = None) -> dict:
    """Run the sections of ``settings.sections``; return every figure.

    Args:
        settings: What to run and how big.
        data_prep: Returns the data-preparation figures (``tables_s``,
            ``image_conversion``); ``tools/benchmark_data_prep.py``'s
            timing functions, passed in by ``tools/benchmark.py``.
        log: Progress messages (e.g. ``print`` to stderr); None is silent.

    Returns:
        dict: ``machine``, ``settings``, ``matmul`` and one entry per
        section run, each a dict of figures; ``seconds`` per section.
    """
    from .data_pipeline import benchmark_data_pipeline
    from .detectors import (build_detectors, config_uses_channels_last,
                            load_config)
    from .evaluation import benchmark_evaluation
    from .machine import describe_machine, matmul_rate
    from .memory import MemoryChild, peak_rss_in_subprocesses
    from .synthetic import synthetic_batch
    from .training import benchmark_inference, benchmark_training, flop_rate

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

    memory_jobs = [(name, mode) for mode in settings.memory_modes
                   for name in settings.memory_frameworks]
    children = []
    if 'memory' in sections and settings.memory_overlap:
        children = [
            MemoryChild(name, mode, settings.config, settings.batch_size,
                        settings.memory_steps) for name, mode in memory_jobs
        ]

    # parsed once (mmdet's base configs take a second to read)
    cfg = load_config(settings.config)
    figures['settings']['plugin_channels_last_by_config'] = (
        config_uses_channels_last(cfg))

    def machine_rate():
        return matmul_rate(settings.matmul_size, settings.matmul_repeats)

    matmuls = [timed('matmul', machine_rate)]
    detectors = None
    if sections & {'training', 'inference'}:
        batch = synthetic_batch(settings.batch_size, settings.image_size)
        detectors = timed(
            'build',
            lambda: build_detectors(cfg, batch, settings.channels_last))
    if 'training' in sections:
        figures['training'] = timed(
            'training', lambda: benchmark_training(detectors, settings.warmup,
                                                   settings.iters))
        # the machine's rate: the best of before and after training
        matmuls.append(machine_rate())
    if 'inference' in sections:
        figures['inference'] = timed(
            'inference', lambda: benchmark_inference(detectors, settings.
                                                     warmup, settings.iters))
    if settings.profile and detectors is not None:
        figures['profile'] = timed('profile',
                                   lambda: profile_detectors(detectors))
    best = max(matmuls, key=lambda m: m['best_gflops'])
    figures['matmul'] = dict(best, runs=[m['best_gflops'] for m in matmuls])
    if 'training' in sections:
        rate = flop_rate(figures['training'], best)
        for name, prof in figures.get('profile', {}).get('training',
                                                         {}).items():
            # the convolutions alone: a step's FLOPs over their time
            flops = figures['training'][name]['flops']
            rate[name]['dense_gflops'] = flops / prof['dense_s'] / 1e9
            rate[name]['dense_share'] = prof['dense_share']
        figures['flop_rate'] = rate
    del detectors
    if 'data_pipeline' in sections:
        consumption = (
            figures['training']['plugin']['images_per_s']
            if 'training' in figures else None)

        def pipeline():
            with tempfile.TemporaryDirectory() as tmp:
                return benchmark_data_pipeline(
                    cfg,
                    tmp,
                    settings.pipeline_images,
                    settings.batch_size,
                    settings.pipeline_batches,
                    num_workers=settings.pipeline_workers,
                    consumption=consumption)

        figures['data_pipeline'] = timed('data_pipeline', pipeline)
    if 'data_prep' in sections and data_prep is not None:
        figures['data_prep'] = timed('data_prep', data_prep)
    if 'evaluation' in sections:

        def evaluation():
            # pycocotools prints its summaries: not benchmark output
            with contextlib.redirect_stdout(io.StringIO()):
                return benchmark_evaluation(cfg, settings.eval_images,
                                            settings.eval_dets_per_image)

        figures['evaluation'] = timed('evaluation', evaluation)
    if 'memory' in sections:

        def memory():
            if children:
                found = [child.result() for child in children]
            else:
                found = peak_rss_in_subprocesses(memory_jobs, settings.config,
                                                 settings.batch_size,
                                                 settings.memory_steps,
                                                 settings.memory_parallel)
            out: dict = {mode: {} for mode in settings.memory_modes}
            for item in found:
                out[item['mode']][item['framework']] = item
            return out

        figures['memory'] = timed('memory', memory)
    figures['seconds'] = seconds
    # a busy machine slows everything: the load at the end is kept too
    figures['machine']['load_average_end'] = [
        round(x, 2) for x in os.getloadavg()
    ]
    return figures
