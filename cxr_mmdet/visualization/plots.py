# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Plots shared by :class:`ROCCurveHook` and
``tools/analysis_tools/plot_metrics.py``.

Each function draws one PNG from plain numbers and returns its path. They
render with matplotlib's Agg canvas directly (no ``pyplot``, no global
backend switch), so they work headless and inside training processes.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_DPI = 100


def _new_figure(width: float = 7.0, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_file: str | Path) -> Path:
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_file, dpi=_DPI)
    return out_file


def _no_data(ax, message: str) -> None:
    ax.text(
        0.5,
        0.5,
        message,
        ha='center',
        va='center',
        wrap=True,
        transform=ax.transAxes,
        color='0.3')


def _colour(palette: Sequence | None, i: int):
    if palette and i < len(palette):
        return tuple(c / 255.0 for c in palette[i])
    return f'C{i % 10}'


def plot_roc_curves(curves: Mapping[str, Mapping],
                    out_file: str | Path,
                    title: str = 'ROC curves',
                    missing: Sequence[str] = (),
                    palette: Sequence | None = None) -> Path:
    """One ROC curve per class, its AUC in the legend.

    Args:
        curves: class name -> dict with ``fpr`` and ``tpr`` (sequences) and
            ``auc`` (float).
        out_file: PNG path to write.
        title: figure title.
        missing: class names without a curve (no positive or no negative),
            named under the legend.
        palette: optional RGB 0-255 colours, one per class in order.
    """
    fig = _new_figure(6.5, 6.0)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls='--', lw=1, color='0.6', label='chance')
    for i, (name, curve) in enumerate(curves.items()):
        auc = curve.get('auc', math.nan)
        ax.plot(
            curve['fpr'],
            curve['tpr'],
            lw=2,
            color=_colour(palette, i),
            label=f'{name} (AUC={auc:.3f})')
    if not curves:
        _no_data(ax, 'no class has both positive and negative images')
    if missing:
        ax.plot([], [], ' ', label='no AUC: ' + ', '.join(missing))
    ax.set_xlim(-0.01, 1.01)
    ax.set_aspect('equal')
    return _finish_rate_axes(fig, ax, 'false positive rate (1 - specificity)',
                             'true positive rate (sensitivity)', title,
                             out_file)


def _finish_rate_axes(fig: Figure, ax, xlabel: str, ylabel: str, title: str,
                      out_file: str | Path) -> Path:
    """A y axis of rates in [0, 1], labels, grid and legend; save."""
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc='lower right', fontsize=8)
    return _save(fig, out_file)


def _mark_epochs(ax, epochs: Sequence[int], label: str) -> None:
    for k, epoch in enumerate(epochs):
        ax.axvline(
            epoch, color='0.5', ls=':', lw=1, label=label if k == 0 else None)


def _plot_series(xs: Sequence[int], series: Mapping[str, Sequence[float]],
                 out_file: str | Path, ckpt_epochs: Sequence[int],
                 x_name: str, style: Mapping[str, dict], empty: str,
                 ylabel: str, title: str, ylim: tuple | None = None) -> Path:
    """One line per series over ``xs``, checkpoints as dotted lines.

    ``style`` maps a series key to extra ``ax.plot`` keywords (``label``,
    ``lw``, ``marker``, ...); ``empty`` is written when there is no series.
    """
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, (key, values) in enumerate(series.items()):
        ax.plot(xs, values, color=f'C{i % 10}', **style[key])
    if not series:
        _no_data(ax, empty)
    _mark_epochs(ax, ckpt_epochs, 'checkpoint')
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x_name)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if series or ckpt_epochs:
        ax.legend(fontsize=8)
    return _save(fig, out_file)


def plot_loss_curves(xs: Sequence[int],
                     losses: Mapping[str, Sequence[float]],
                     out_file: str | Path,
                     ckpt_epochs: Sequence[int] = (),
                     x_name: str = 'epoch') -> Path:
    """Total loss and each loss term over epochs.

    Args:
        xs: (E,) epochs (or iterations).
        losses: loss key (``loss``, ``loss_cls``, ...) -> (E,) values,
            ``nan`` where missing. ``loss`` is drawn thick.
        out_file: PNG path to write.
        ckpt_epochs: epochs with a checkpoint, drawn as dotted lines.
        x_name: x axis name.
    """
    style = {
        key: dict(
            marker='o' if len(xs) < 30 else None,
            ms=3,
            lw=2.5 if key == 'loss' else 1.2,
            label=key)
        for key in losses
    }
    return _plot_series(xs, losses, out_file, ckpt_epochs, x_name, style,
                        'no training loss logged',
                        'loss (mean of the logged values)', 'training loss')


def plot_metric_curves(steps: Sequence[int],
                       metrics: Mapping[str, Sequence[float]],
                       out_file: str | Path,
                       labels: Mapping[str, str] | None = None,
                       ckpt_epochs: Sequence[int] = (),
                       x_name: str = 'epoch') -> Path:
    """Validation metrics over epochs.

    Args:
        steps: (E,) epochs of the validations.
        metrics: metric key -> (E,) values, ``nan`` where missing.
        out_file: PNG path to write.
        labels: optional metric key -> legend name.
        ckpt_epochs: epochs with a checkpoint, drawn as dotted lines.
        x_name: x axis name.
    """
    labels = labels or {}
    style = {
        key: dict(marker='o', ms=3, lw=1.5, label=labels.get(key, key))
        for key in metrics
    }
    return _plot_series(steps, metrics, out_file, ckpt_epochs, x_name, style,
                        'no validation metric logged', 'metric',
                        'validation metrics', ylim=(0, 1.02))


def plot_per_class(classes: Sequence[str],
                   values: Mapping[str, Mapping[str, float]],
                   out_file: str | Path,
                   title: str = 'per-class metrics') -> Path:
    """Grouped bars: one group per class, one bar per metric.

    Args:
        classes: class names, in order.
        values: metric name (``AP``, ``AUC``, ...) -> class name -> value;
            missing or ``nan`` values are written as ``n/a``.
        out_file: PNG path to write.
        title: figure title.
    """
    fig = _new_figure(max(7.0, 1.3 * len(classes) + 2), 5.0)
    ax = fig.add_subplot()
    names = list(values)
    width = 0.8 / max(len(names), 1)
    labelled = set()
    for j, metric in enumerate(names):
        for i, cls in enumerate(classes):
            x = i - 0.4 + width * (j + 0.5)
            v = values[metric].get(cls)
            if isinstance(v, bool) or not isinstance(v, (int, float)) \
                    or math.isnan(v):
                ax.text(
                    x,
                    0.01,
                    'n/a',
                    ha='center',
                    va='bottom',
                    rotation=90,
                    fontsize=7,
                    color=f'C{j % 10}')
                continue
            ax.bar(
                x,
                v,
                width,
                color=f'C{j % 10}',
                label=None if metric in labelled else metric)
            labelled.add(metric)
            ax.text(
                x, v + 0.01, f'{v:.2f}', ha='center', va='bottom', fontsize=7)
    if not names:
        _no_data(ax, 'no per-class metric found')
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes, rotation=20, ha='right', fontsize=8)
    ax.set_xlim(-0.6, max(len(classes), 1) - 0.4)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel('value')
    ax.set_title(title)
    ax.grid(axis='y', alpha=0.3)
    if labelled:
        ax.legend(fontsize=8)
    return _save(fig, out_file)


def plot_froc_points(fp_rates: Sequence[float],
                     sensitivity: Sequence[float],
                     out_file: str | Path,
                     low: Sequence[float] | None = None,
                     high: Sequence[float] | None = None,
                     title: str = 'FROC') -> Path:
    """Lesion sensitivity at the FROC rates (log-scale FPs per image),
    with interval bars when ``low`` and ``high`` are given."""
    fig = _new_figure(6.5, 4.5)
    ax = fig.add_subplot()
    rates = list(fp_rates)
    sens = [math.nan if v is None else v for v in sensitivity]
    if low is not None and high is not None:
        err = [[s - (math.nan if lo is None else lo) for s, lo in
                zip(sens, low)],
               [(math.nan if hi is None else hi) - s for s, hi in
                zip(sens, high)]]
        ax.errorbar(rates, sens, yerr=err, marker='o', capsize=3, lw=2,
                    label='sensitivity [interval]')
    else:
        ax.plot(rates, sens, marker='o', lw=2, label='sensitivity')
    if not rates:
        _no_data(ax, 'no FROC figures')
    ax.set_xscale('log', base=2)
    return _finish_rate_axes(fig, ax, 'false positives per image',
                             'lesion sensitivity', title, out_file)
