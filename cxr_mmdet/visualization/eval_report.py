# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""One self-contained HTML evaluation report of a work dir.

Reads what training and ``tools/test.py`` wrote (no re-run): the test
evaluation's ``metrics.json``, ``metrics_ci.json``,
``metrics_by_source.json``, ``operating_points_test.json``,
``error_gallery.json`` and ROC JSON; the work dir's scalars, checkpoints
and val ``operating_points.json``. Every image is a PNG embedded as
base64, so the file opens offline. A missing piece is named in the report
instead of failing it.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os.path as osp
import tempfile
from pathlib import Path

from ..apis.summary import HEADLINE, PER_CLASS, SOURCE_COLUMNS
from ..classes import CXR_CLASSES, CXR_PALETTE, class_key
from .plots import plot_froc_points, plot_roc_curves
from .roc_json import load_roc_json
from .work_dir_plots import plot_work_dir

#: Colours of the gallery: ground truth, predictions.
GT_COLOUR, PRED_COLOUR = (40, 200, 60), (230, 40, 40)
#: Side of a gallery image in the report (pixels).
GALLERY_SIDE = 320

_STYLE = """
body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
.gallery{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0;font-size:12px}.note{color:#a50}
"""


def find_eval_dir(work_dir: str | Path) -> Path | None:
    """The test evaluation of a work dir: ``eval/test`` (the demo's),
    else the work dir itself when it holds ``metrics.json``."""
    work_dir = Path(work_dir)
    for candidate in (work_dir / 'eval' / 'test', work_dir):
        if (candidate / 'metrics.json').is_file():
            return candidate
    return None


def _read(path: Path, notes: list) -> dict | None:
    if not path.is_file():
        notes.append(f'{path.name}: not found in {path.parent}')
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        notes.append(f'{path}: unreadable ({err})')
        return None


def _png(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode('ascii')


def _img(data: str, alt: str, width: int | None = None) -> str:
    size = f' width="{width}"' if width else ''
    return (f'<img alt="{html.escape(alt)}"{size} '
            f'src="data:image/png;base64,{data}">')


def _fmt(value, interval=None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    if interval and interval.get('low') is not None:
        return (f'{value:.3f} [{interval["low"]:.3f}, '
                f'{interval["high"]:.3f}]')
    return f'{value:.3f}'


def _table(rows: list, caption: str) -> str:
    head = ''.join(f'<th>{html.escape(str(c))}</th>' for c in rows[0])
    body = ''.join(
        '<tr>' + ''.join(f'<td>{html.escape(str(c))}</td>' for c in row) +
        '</tr>' for row in rows[1:])
    return (f'<table><caption>{html.escape(caption)}</caption>'
            f'<tr>{head}</tr>{body}</table>')


def _summary_tables(metrics: dict, intervals: dict, by_source: dict) -> str:
    level = next(iter(intervals.values()), {}).get('level')
    sources = [s for s in SOURCE_COLUMNS if s in by_source]
    rows = [['metric', 'value' if level is None else
             f'value [{level:.0%} interval]'] +
            [SOURCE_COLUMNS[s] for s in sources]]
    for label, key in HEADLINE.items():
        value = intervals.get(key, {}).get('value', metrics.get(key))
        rows.append([label, _fmt(value, intervals.get(key))] + [
            _fmt(by_source[s]['metrics'].get(key)) for s in sources])
    if sources:
        rows.append(['images', ''] + [
            str(by_source[s]['counts'].get('images', '')) for s in sources])
    per_class = [['class'] + list(PER_CLASS)]
    for name in CXR_CLASSES:
        row = [name]
        for _, pattern in PER_CLASS.values():
            key = pattern.format(name=name, key=class_key(name))
            value = intervals.get(key, {}).get('value', metrics.get(key))
            row.append(_fmt(value, intervals.get(key)))
        per_class.append(row)
    source_rows = [['class', 'metric'] + [SOURCE_COLUMNS[s] for s in sources]]
    for name in CXR_CLASSES:
        for label, (_, pattern) in PER_CLASS.items():
            key = pattern.format(name=name, key=class_key(name))
            source_rows.append([name, label] + [
                _fmt(by_source[s]['metrics'].get(key)) for s in sources])
    out = _table(rows, 'Summary (test split)') + _table(
        per_class, 'Per class (test split)')
    if sources:
        out += _table(source_rows, 'Per class and source (test split)')
    return out


def _operating_points_table(val: dict | None, test: dict | None) -> str:
    rows = [['class', 'point', 'threshold (val)', 'sensitivity val',
             'sensitivity test', 'FP/image val', 'FP/image test']]
    source = test or val
    if source is None:
        return ''
    for name, by_point in source['points'].items():
        for point, p in by_point.items():
            val_p = (val or {}).get('points', {}).get(name, {}).get(point, {})
            rows.append([
                name, point,
                'n/a' if p.get('threshold') is None else
                f'{p["threshold"]:.4f}',
                _fmt(p.get('val_sensitivity', val_p.get('sensitivity'))),
                _fmt(p.get('sensitivity')) if test else 'n/a',
                _fmt(p.get('val_fp_per_image', val_p.get('fp_per_image'))),
                _fmt(p.get('fp_per_image')) if test else 'n/a'
            ])
    return _table(rows, 'Operating points: thresholds chosen on val, '
                  'reached on test')


def draw_case(case: dict, notes: list) -> str:
    """One gallery image as base64 PNG: ground truth boxes in green,
    the class's predictions in red with scores, the case's box thicker;
    a grey canvas when the image file is missing."""
    from PIL import Image, ImageDraw
    path = case.get('img_path')
    boxes = [b['bbox'] for b in case['ground_truth']] + [
        p['bbox'] for p in case['predictions']]
    if path and osp.isfile(path):
        img = Image.open(path).convert('RGB')
    else:
        side = int(max([300] + [max(b[2], b[3]) for b in boxes])) + 1
        img = Image.new('RGB', (side, side), (90, 90, 90))
        notes.append(f'gallery: image {path!r} not found; drawn on a grey '
                     'canvas')
    scale = GALLERY_SIDE / max(img.size)
    img = img.resize((max(1, round(img.width * scale)),
                      max(1, round(img.height * scale))))
    draw = ImageDraw.Draw(img)

    def rect(box, colour, width):
        draw.rectangle([v * scale for v in box], outline=colour, width=width)

    for gt in case['ground_truth']:
        rect(gt['bbox'], GT_COLOUR, 3 if gt['bbox'] == case['focus'] else 1)
    for pred in case['predictions']:
        rect(pred['bbox'], PRED_COLOUR,
             3 if pred['bbox'] == case['focus'] else 1)
        draw.text((pred['bbox'][0] * scale + 2, pred['bbox'][1] * scale + 2),
                  f'{pred["score"]:.2f}', fill=PRED_COLOUR)
    buffer = io.BytesIO()
    img.save(buffer, format='PNG')
    return base64.b64encode(buffer.getvalue()).decode('ascii')


def _gallery(gallery: dict, notes: list) -> str:
    parts = [f'<p>ground truth <b style="color:rgb{GT_COLOUR}">green</b>, '
             f'predictions of the class <b style="color:rgb{PRED_COLOUR}">'
             'red</b> with scores; the case\'s box is drawn thicker.</p>']
    for name, cases in gallery.items():
        parts.append(f'<h3>{html.escape(name)}</h3>')
        for kind, label in (('false_positives', 'worst false positives'),
                            ('missed', 'missed lesions')):
            figures = []
            for case in cases.get(kind, []):
                score = 'no detection hits it' if case['score'] is None \
                    else f'score {case["score"]:.3f}'
                figures.append(
                    '<figure>' + _img(draw_case(case, notes),
                                      f'{name} {kind}') +
                    f'<figcaption>{html.escape(str(case["img_id"]))}: '
                    f'{score}</figcaption></figure>')
            parts.append(f'<h4>{label}</h4><div class="gallery">' +
                         (''.join(figures) or '<p>none</p>') + '</div>')
    return ''.join(parts)


def write_eval_report(work_dir: str | Path,
                      eval_dir: str | Path | None = None,
                      out_file: str | Path | None = None) -> Path:
    """Write the report; return its path.

    Args:
        work_dir: The training work dir (scalars, checkpoints, val
            operating points).
        eval_dir: The test evaluation's work dir (default:
            :func:`find_eval_dir`).
        out_file: Default ``<work_dir>/report.html``.
    """
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise ValueError(f'work dir {str(work_dir)!r} is not a directory')
    notes: list[str] = []
    eval_dir = Path(eval_dir) if eval_dir else find_eval_dir(work_dir)
    if eval_dir is None:
        raise FileNotFoundError(
            f'no metrics.json in {work_dir}/eval/test or {work_dir}: run '
            'tools/test.py first')
    out_file = Path(out_file) if out_file else work_dir / 'report.html'
    metrics = (_read(eval_dir / 'metrics.json', notes) or {}).get(
        'metrics', {})
    intervals = _read(eval_dir / 'metrics_ci.json', notes) or {}
    by_source = _read(eval_dir / 'metrics_by_source.json', notes) or {}
    val_points = None
    for candidate in (work_dir / 'operating_points.json',
                      work_dir / 'eval' / 'val' / 'operating_points.json'):
        if candidate.is_file():
            val_points = _read(candidate, notes)
            break
    test_points = None
    if (eval_dir / 'operating_points_test.json').is_file():
        test_points = _read(eval_dir / 'operating_points_test.json', notes)
    gallery = _read(eval_dir / 'error_gallery.json', notes) or {}
    sections = [_summary_tables(metrics, intervals, by_source)]
    images = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roc_files = sorted((eval_dir / 'roc').glob('test_*.json'))
        if roc_files:
            roc = load_roc_json(roc_files[-1])
            images.append(('ROC curves (test)', plot_roc_curves(
                roc['classes'], tmp / 'roc.png', 'ROC, test split',
                list(roc.get('missing', {})), CXR_PALETTE)))
        else:
            notes.append(f'no roc/test_*.json in {eval_dir}: no ROC curves')
        rates = sorted((float(k.split('@', 1)[1]), k) for k in metrics
                       if k.startswith('cxr/FROC@'))
        if rates:
            keys = [k for _, k in rates]
            images.append(('FROC (test)', plot_froc_points(
                [r for r, _ in rates],
                [intervals.get(k, {}).get('value', metrics[k])
                 for k in keys], tmp / 'froc.png',
                [intervals.get(k, {}).get('low') for k in keys]
                if intervals else None,
                [intervals.get(k, {}).get('high') for k in keys]
                if intervals else None, 'FROC, test split')))
        plots = plot_work_dir(work_dir, tmp / 'work_dir')
        notes.extend(plots.messages)
        for name, caption in (('loss_curve', 'loss (checkpoint epochs '
                               'marked)'), ('metrics', 'val metrics')):
            if name in plots.written:
                images.append((caption, plots.written[name]))
        figures = ''.join(
            f'<figure>{_img(_png(path), caption)}<figcaption>'
            f'{html.escape(caption)}</figcaption></figure>'
            for caption, path in images)
    sections.append(f'<h2>Curves</h2><div class="gallery">{figures}</div>')
    sections.append('<h2>Operating points</h2>' + (
        _operating_points_table(val_points, test_points)
        or '<p>no operating_points.json</p>'))
    sections.append('<h2>Error gallery (test split)</h2>' +
                    _gallery(gallery, notes))
    if notes:
        sections.append('<h2>Notes</h2><ul>' + ''.join(
            f'<li class="note">{html.escape(n)}</li>' for n in notes) +
            '</ul>')
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<title>Evaluation report: {html.escape(work_dir.name)}</title>'
            f'<style>{_STYLE}</style></head><body>'
            '<h1>Evaluation report</h1><p>work dir '
            f'{html.escape(str(work_dir))}, test evaluation {html.escape(str(eval_dir))}. Intervals: '
            'percentile bootstrap over test images resampled by NIH patient '
            '/ VinBig image.</p>' + ''.join(sections) + '</body></html>')
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(page, encoding='utf-8')
    return out_file
