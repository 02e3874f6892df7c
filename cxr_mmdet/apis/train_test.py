# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Train and test entry points: what ``tools/train.py``, ``tools/test.py``
and ``tools/run_demo.py`` call."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checkpoint import load_checkpoint_strict
from .operating_points import (OPERATING_POINTS_FILE,
                               OPERATING_POINTS_TEST_FILE, achieved_on,
                               read_operating_points,
                               runner_operating_points, write_json)
from .intervals import (DEFAULT_BOOTSTRAP, DEFAULT_CI_LEVEL,
                        runner_intervals, write_intervals)
from .run_config import build_test_cfg, build_train_cfg
from .summary import summarize_metrics, write_summary


def _build_runner(cfg) -> Any:
    """mmdet's tools' runner: ``Runner.from_cfg`` or the config's
    ``runner_type``."""
    import cxr_mmdet  # noqa: F401  registers the plugin
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def train_detector(config: str, **options) -> Any:
    """Build the runner of ``config`` and train; return the runner.

    Args:
        config: Config file path.
        **options: :func:`~cxr_mmdet.apis.build_train_cfg`'s options
            (``work_dir``, ``resume``, ``amp``, ``auto_scale_lr``,
            ``cfg_options``, ``launcher``).
    """
    runner = _build_runner(build_train_cfg(config, **options))
    runner.train()
    return runner


@dataclass
class EvalResult:
    """What :func:`evaluate_checkpoint` gives back: ``metrics`` as
    ``Runner.test()`` returned them; on the main process the
    :func:`summarize_metrics` ``summary``, the bootstrap ``intervals``
    (``metrics_ci.json``), the figures ``by_source``
    (``metrics_by_source.json``), the ``paths`` written and the
    ``work_dir`` (``summary`` is None, ``intervals`` and ``by_source``
    empty and ``paths`` empty elsewhere)."""
    metrics: dict
    summary: dict | None = None
    paths: list[str] = field(default_factory=list)
    work_dir: str | None = None
    intervals: dict = field(default_factory=dict)
    by_source: dict = field(default_factory=dict)
    #: val: the chosen operating points; test: what the val ones reach
    operating_points: dict | None = None


def evaluate_checkpoint(config: str,
                        checkpoint: str,
                        bootstrap: int = DEFAULT_BOOTSTRAP,
                        ci_level: float = DEFAULT_CI_LEVEL,
                        operating_points: str | None = None,
                        **options) -> EvalResult:
    """Evaluate ``checkpoint`` on the config's test loader (or the split
    ``options['split']`` names) and write the summary's
    ``metrics.json`` and ``per_class.json``, the intervals'
    ``metrics_ci.json`` and ``metrics_by_source.json`` into the work dir.

    Args:
        config: Config file path.
        checkpoint: Checkpoint file.
        bootstrap: Resamples of the intervals (images resampled by group:
            NIH patient, VinBig image); 0: no intervals.
        ci_level: Coverage of the intervals.
        operating_points: On ``split='val'`` the chosen per-class
            thresholds are written to ``operating_points.json``; on test,
            this ``operating_points.json`` (default: the one beside the
            checkpoint, when there is one) gives the thresholds whose
            sensitivity and FPs per image are written to
            ``operating_points_test.json``.
        **options: :func:`~cxr_mmdet.apis.build_test_cfg`'s options
            (``work_dir``, ``split``, ``out``, ``show_dir``, ``tta``,
            ``cfg_options``, ``launcher``, ``amp``; ``ensemble``,
            ``wbf_tta``, ``wbf_iou_thr``, ``wbf_skip_thr`` for a WBF
            ensemble).

    The checkpoint must fit the model (:func:`load_checkpoint_strict`;
    an ensemble checks each of its checkpoints as it loads them).
    """
    from mmengine.dist import is_main_process
    cfg = build_test_cfg(config, checkpoint, **options)
    runner = _build_runner(cfg)
    if cfg.model.get('type') != 'CXRWBFEnsemble':
        load_checkpoint_strict(runner, checkpoint)
    metrics = runner.test()
    result = EvalResult(metrics, work_dir=cfg.work_dir)
    if is_main_process():
        classes = runner.test_dataloader.dataset.metainfo['classes']
        result.summary = summarize_metrics(metrics, classes)
        result.paths = write_summary(result.summary, metrics, cfg.work_dir)
        extra = runner_intervals(runner, bootstrap, ci_level)
        result.intervals = extra['intervals']
        result.by_source = extra['by_source']
        result.paths += write_intervals(extra, cfg.work_dir)
        result.operating_points, path = _operating_points(
            runner, checkpoint, options.get('split', 'test'),
            operating_points, cfg.work_dir)
        result.paths += [path] if path else []
        result.paths.append(_write_error_gallery(runner, cfg.work_dir))
    return result


def _operating_points(runner, checkpoint: str, split: str | None,
                      chosen: str | None, work_dir: str) -> tuple:
    """(operating points, path written) of :func:`evaluate_checkpoint`."""
    import os.path as osp
    if split == 'val':
        points = dict(
            runner_operating_points(runner),
            split='val',
            checkpoint=osp.abspath(checkpoint))
        return points, write_json(points,
                                  osp.join(work_dir, OPERATING_POINTS_FILE))
    if chosen is None:
        chosen = osp.join(osp.dirname(osp.abspath(checkpoint)),
                          OPERATING_POINTS_FILE)
        if not osp.isfile(chosen):
            return None, None
    points = dict(
        achieved_on(runner, read_operating_points(chosen)),
        split=split or 'test',
        thresholds_from=osp.abspath(chosen))
    return points, write_json(points,
                              osp.join(work_dir, OPERATING_POINTS_TEST_FILE))


def _write_error_gallery(runner, work_dir: str) -> str:
    """Write ``error_gallery.json`` of the run; return its path."""
    import os.path as osp
    from .error_gallery import ERROR_GALLERY_FILE, error_gallery
    from .operating_points import _roc_metric
    return write_json(error_gallery(_roc_metric(runner, 'test')),
                      osp.join(work_dir, ERROR_GALLERY_FILE))
