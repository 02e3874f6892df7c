# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Train and test entry points: what ``tools/train.py``, ``tools/test.py``
and ``tools/run_demo.py`` call."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checkpoint import load_checkpoint_strict
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
    :func:`summarize_metrics` ``summary``, the ``paths`` written and the
    ``work_dir`` (``summary`` is None and ``paths`` empty elsewhere)."""
    metrics: dict
    summary: dict | None = None
    paths: list[str] = field(default_factory=list)
    work_dir: str | None = None


def evaluate_checkpoint(config: str, checkpoint: str, **options) -> EvalResult:
    """Evaluate ``checkpoint`` on the config's test loader (or the split
    ``options['split']`` names) and write the summary's
    ``metrics.json`` and ``per_class.json`` into the work dir.

    Args:
        config: Config file path.
        checkpoint: Checkpoint file.
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
    return result
