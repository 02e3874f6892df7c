# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The benchmark's goals and its one printed table."""
from __future__ import annotations

#: (key, label, target, higher is better, unit, where the value is read:
#: a path of keys into the figures).
GOALS = (
    ('training_bf16_vs_torchvision_fp32', 'training bf16 vs torchvision fp32',
     1.9, True, 'x',
     ('training', 'plugin_bf16_nhwc', 'vs_torchvision_fp32', 'ratio')),
    ('training_bf16_vs_torchvision_bf16', 'training bf16 vs torchvision bf16',
     1.0, True, 'x',
     ('training', 'plugin_bf16_nhwc', 'vs_torchvision_bf16', 'ratio')),
    ('inference_bf16_vs_torchvision_fp32',
     'inference bf16 vs torchvision fp32', 2.5, True, 'x',
     ('inference', 'plugin_bf16_nhwc', 'vs_torchvision_fp32', 'ratio')),
    ('inference_bf16_vs_torchvision_bf16',
     'inference bf16 vs torchvision bf16', 1.0, True, 'x',
     ('inference', 'plugin_bf16_nhwc', 'vs_torchvision_bf16', 'ratio')),
    ('training_bf16_share_of_ceiling', 'training bf16 share of bf16 matmul',
     0.5, True, '%', ('training', 'plugin_bf16_nhwc', 'share_of_ceiling')),
    ('pipeline_ratio', 'data pipeline vs model', 3.0, True, 'x',
     ('data_pipeline', 'ratio')),
    ('table_prep_s', 'table preparation s', 10.0, False, ' s',
     ('data_prep', 'tables_s', 'total')),
    ('evaluation_s', 'evaluation of 1,000 images s', 10.0, False, ' s',
     ('evaluation', 'total_s')),
)

#: Variant name -> words in the table.
LABELS = {
    'plugin_fp32_nchw': 'fp32 NCHW',
    'plugin_fp32_nhwc': 'fp32 NHWC',
    'plugin_bf16_nhwc': 'bf16 NHWC',
    'torchvision_fp32': 'torchvision fp32',
    'torchvision_bf16': 'torchvision bf16',
    'plugin_fp32_nhwc_mmcv_nms': 'fp32 NHWC, mmcv NMS',
}


def _get(figures: dict, keys: tuple):
    value = figures
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def goal_values(figures: dict) -> dict:
    """Each goal's measured value, target and whether it is met.

    The evaluation goal is for 1,000 images: a run over fewer images is
    scaled linearly (and says so with ``scaled_from``).

    Returns:
        dict: ``{key: dict(label, value, target, met[, scaled_from])}``;
        goals whose figures are absent are left out.
    """
    out = {}
    for key, label, target, higher, _, path in GOALS:
        value = _get(figures, path)
        if value is None:
            continue
        extra = {}
        if key == 'evaluation_s':
            num = figures['evaluation']['num_images']
            value = value * 1000.0 / num
            if num != 1000:
                extra['scaled_from'] = num
        met = value >= target if higher else value < target
        out[key] = dict(
            label=label, value=value, target=target, met=bool(met), **extra)
    return out


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return '-'
    if isinstance(value, str):
        return value
    if abs(value) >= 100:
        return f'{value:,.0f}'
    return f'{value:.{digits}f}'


def _mark(goals: dict, key: str) -> str:
    goal = goals.get(key)
    if goal is None:
        return '-'
    spec = next(g for g in GOALS if g[0] == key)
    op, unit = ('>=' if spec[3] else '<'), spec[4]
    target = (f'{100 * goal["target"]:g}%'
              if unit == '%' else f'{goal["target"]:g}{unit}')
    return f'{op} {target}: {"met" if goal["met"] else "MISSED"}'


def _speed_rows(what: str, section: dict, goals: dict) -> list[tuple]:
    """One row per plugin variant against torchvision fp32, one more per
    bf16 variant against torchvision bf16; torchvision bf16's own row."""
    rows = []
    batch = section['batch_size']
    for name, label in LABELS.items():
        row = section.get(name)
        if row is None or not name.startswith('plugin'):
            continue
        for ref in ('torchvision_fp32', 'torchvision_bf16'):
            vs = row.get(f'vs_{ref}')
            if vs is None:
                continue
            goal = (f'{what.lower()}_bf16_vs_{ref}'
                    if name == 'plugin_bf16_nhwc' else '')
            rows.append((f'{what} images/s, {label} (batch {batch})',
                         _fmt(row['images_per_s']),
                         f'{LABELS[ref]} {_fmt(section[ref]["images_per_s"])}',
                         f'{vs["ratio"]:.2f}x', _mark(goals, goal)))
    return rows


def _ceiling_rows(figures: dict, goals: dict) -> list[tuple]:
    rows = []
    ceiling = figures.get('ceiling')
    if ceiling:
        fp32, bf16 = ceiling['fp32'], ceiling['bf16']
        rows.append((f'Matmul ceiling GFLOP/s, fp32 ({fp32["size"]}^3)',
                     _fmt(fp32['best_gflops'], 1),
                     f'bf16 ({bf16["size"]}^3) {_fmt(bf16["best_gflops"], 1)}',
                     f'{bf16["best_gflops"] / fp32["best_gflops"]:.2f}x',
                     '-'))
    tr = figures.get('training', {})
    for name, label in LABELS.items():
        row = tr.get(name)
        if row is None or 'share_of_ceiling' not in row:
            continue
        precision = 'bf16' if 'bf16' in name else 'fp32'
        goal = ('training_bf16_share_of_ceiling'
                if name == 'plugin_bf16_nhwc' else '')
        rows.append((f'Training GFLOP/s, {label}',
                     _fmt(row['achieved_gflops'], 1),
                     f'{precision} ceiling '
                     f'{_fmt(ceiling[precision]["best_gflops"], 1)}',
                     f'{row["share_of_ceiling"]:.0%}', _mark(goals, goal)))
    return rows


def table_rows(figures: dict) -> list[tuple[str, str, str, str, str]]:
    """Rows of (what, cxr_mmdet, reference, ratio, goal)."""
    goals = goal_values(figures)
    rows = []
    for section, what in (('training', 'Training'), ('inference',
                                                     'Inference')):
        if figures.get(section):
            rows += _speed_rows(what, figures[section], goals)
    rows += _ceiling_rows(figures, goals)
    dp = figures.get('data_pipeline')
    if dp:
        rows.append((f'Data pipeline images/s ({dp["num_workers"]} workers)',
                     _fmt(dp['images_per_s'], 1),
                     f'model {_fmt(dp.get("model_images_per_s"))}',
                     f'{dp["ratio"]:.1f}x' if 'ratio' in dp else '-',
                     _mark(goals, 'pipeline_ratio')))
    prep = figures.get('data_prep')
    if prep:
        rows.append(('Table preparation, real tables (s)',
                     _fmt(prep['tables_s']['total']),
                     f'WBF alone {_fmt(prep["tables_s"]["fusion"])} s', '-',
                     _mark(goals, 'table_prep_s')))
        per = [
            f'{k.split("_")[1]}w {_fmt(v["images_per_s"], 1)}'
            for k, v in prep['image_conversion'].items()
            if k.startswith('workers_')
        ]
        rows.append(
            ('Image conversion images/s', ', '.join(per), '-', '-', '-'))
    ev = figures.get('evaluation')
    if ev:
        rows.append((f'Evaluation, {ev["num_images"]:,} images (s)',
                     _fmt(ev['total_s']), f'{ev["metrics"]} metrics', '-',
                     _mark(goals, 'evaluation_s')))
    mem = figures.get('memory') or {}
    for mode, label in (('train', 'training step'), ('infer', 'inference')):
        for name, item in mem.get(mode, {}).items():
            if not name.startswith('plugin'):
                continue
            ref = mem[mode].get('torchvision_fp32')
            rows.append(
                (f'Peak RSS MiB, {label}, {LABELS[name]} '
                 f'(batch {item["batch_size"]})', _fmt(item['peak_rss_mb']),
                 f'torchvision fp32 {_fmt(ref["peak_rss_mb"])}' if ref else
                 '-', f'{item["peak_rss_mb"] / ref["peak_rss_mb"]:.2f}x'
                 if ref else '-', '-'))
    return rows


def machine_line(machine: dict) -> str:
    """One line naming the machine: CPU, cores, threads, GPU, load."""
    gpu = machine.get('gpu') or 'no GPU'
    torch_version = machine.get('env', {}).get('PyTorch')
    features = ' '.join(machine.get('cpu_features', [])) or 'none listed'
    return (f'{machine["cpu_model"]} ({features}), '
            f'{machine["usable_cpus"]} cores, torch {torch_version} with '
            f'{machine["torch_threads"]} threads, {gpu}; load average '
            f'{machine["load_average"][0]:.2f} at the start' +
            (f', {machine["load_average_end"][0]:.2f} at the end'
             if 'load_average_end' in machine else ''))


def format_table(figures: dict) -> str:
    """The benchmark's one table (GitHub Markdown, ``terminaltables``),
    under a line naming the machine."""
    from terminaltables import GithubFlavoredMarkdownTable
    header = ('What', 'cxr_mmdet', 'Reference', 'Ratio', 'Goal')
    table = GithubFlavoredMarkdownTable([header] + table_rows(figures))
    lines = []
    if 'machine' in figures:
        lines += [f'Machine: {machine_line(figures["machine"])}', '']
    return '\n'.join(lines + [table.table])
