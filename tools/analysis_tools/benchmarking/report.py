# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The benchmark's goals and its one printed table."""
from __future__ import annotations

#: (key, label, target, higher is better); the value of each is read from
#: the figures by :func:`goal_values`.
GOALS = (
    ('training_ratio', 'training vs torchvision', 1.0, True),
    ('inference_ratio', 'inference vs torchvision', 1.0, True),
    ('training_percent_of_matmul', 'training FLOP/s % of matmul', 85.0, True),
    ('pipeline_ratio', 'data pipeline vs model', 3.0, True),
    ('table_prep_s', 'table preparation s', 10.0, False),
    ('evaluation_s', 'evaluation of 1,000 images s', 10.0, False),
)


def _get(figures: dict, *keys):
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
        goals whose section did not run are left out.
    """
    values = {
        'training_ratio':
        _get(figures, 'training', 'ratio'),
        'inference_ratio':
        _get(figures, 'inference', 'ratio'),
        'training_percent_of_matmul':
        _get(figures, 'flop_rate', 'percent_of_matmul'),
        'pipeline_ratio':
        _get(figures, 'data_pipeline', 'ratio'),
        'table_prep_s':
        _get(figures, 'data_prep', 'tables_s', 'total'),
        'evaluation_s':
        None,
    }
    extra: dict = {}
    total = _get(figures, 'evaluation', 'total_s')
    if total is not None:
        num = figures['evaluation']['num_images']
        values['evaluation_s'] = total * 1000.0 / num
        if num != 1000:
            extra['evaluation_s'] = dict(scaled_from=num)
    out = {}
    for key, label, target, higher in GOALS:
        value = values[key]
        if value is None:
            continue
        met = value >= target if higher else value < target
        out[key] = dict(
            label=label,
            value=value,
            target=target,
            met=bool(met),
            **extra.get(key, {}))
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
    op = '>=' if key not in ('table_prep_s', 'evaluation_s') else '<'
    unit = 'x' if key.endswith('ratio') else (
        '%' if key.startswith('training_percent') else ' s')
    return (f'{op} {goal["target"]:g}{unit}: '
            f'{"met" if goal["met"] else "MISSED"}')


def _channels_last_row(what: str, section: dict) -> tuple:
    plugin = section['plugin_channels_last']['images_per_s']
    ref = section['torchvision_channels_last']['images_per_s']
    gain = section['channels_last_speedup']
    return (f'{what}, both channels_last (gain)',
            f'{_fmt(plugin)} ({gain["plugin"]:.2f}x)',
            f'torchvision {_fmt(ref)} ({gain["torchvision"]:.2f}x)',
            f'{section["ratio_channels_last"]:.2f}x', '-')


def table_rows(figures: dict) -> list[tuple[str, str, str, str, str]]:
    """Rows of (what, plugin, reference, ratio, goal)."""
    goals = goal_values(figures)
    rows = []
    # the plugin runs as its config says: NHWC when it holds ChannelsLastHook
    layout = (', config NHWC' if figures.get('settings', {}).get(
        'plugin_channels_last_by_config') else '')
    tr = figures.get('training')
    if tr:
        rows.append((f'Training images/s (batch {tr["batch_size"]}{layout})',
                     _fmt(tr['plugin']['images_per_s']),
                     f'torchvision {_fmt(tr["torchvision"]["images_per_s"])}',
                     f'{tr["ratio"]:.2f}x', _mark(goals, 'training_ratio')))
    if tr and 'ratio_channels_last' in tr:
        rows.append(_channels_last_row('Training', tr))
    fr = figures.get('flop_rate')
    if fr:
        rows.append((f'Training GFLOP/s vs fp32 matmul{layout}',
                     _fmt(fr['plugin']['achieved_gflops'],
                          1), f'matmul {_fmt(fr["matmul_gflops"], 1)}',
                     f'{fr["percent_of_matmul"]:.0f}%',
                     _mark(goals, 'training_percent_of_matmul')))
    if fr and 'percent_of_matmul_channels_last' in fr:
        rows.append(('Training GFLOP/s, plugin channels_last',
                     _fmt(fr['plugin_channels_last']['achieved_gflops'],
                          1), f'matmul {_fmt(fr["matmul_gflops"], 1)}',
                     f'{fr["percent_of_matmul_channels_last"]:.0f}%', '-'))
    if fr and 'dense_gflops' in fr['plugin']:

        def conv(name):
            return (f'{fr[name]["dense_share"]:.0%} at '
                    f'{fr[name]["dense_gflops"]:.0f} GFLOP/s')

        rows.append(('Training: conv time share, conv rate', conv('plugin'),
                     f'torchvision {conv("torchvision")}', '-', '-'))
    inf = figures.get('inference')
    if inf:
        rows.append((f'Inference images/s (batch {inf["batch_size"]}, NMS'
                     f'{layout})',
                     _fmt(inf['plugin']['images_per_s']), f'torchvision '
                     f'{_fmt(inf["torchvision"]["images_per_s"])}',
                     f'{inf["ratio"]:.2f}x', _mark(goals, 'inference_ratio')))
    if inf and 'ratio_channels_last' in inf:
        rows.append(_channels_last_row('Inference', inf))
    dp = figures.get('data_pipeline')
    if dp:
        rows.append((f'Data pipeline images/s ({dp["num_workers"]} workers)',
                     _fmt(dp['images_per_s'],
                          1), f'model {_fmt(dp.get("model_images_per_s"))}',
                     f'{dp["ratio"]:.1f}x' if 'ratio' in dp else '-',
                     _mark(goals, 'pipeline_ratio')))
    prep = figures.get('data_prep')
    if prep and 'tables_s' in prep:
        rows.append(('Table preparation, real tables (s)',
                     _fmt(prep['tables_s']['total']), '-', '-',
                     _mark(goals, 'table_prep_s')))
    if prep and 'image_conversion' in prep:
        conv = prep['image_conversion']
        per = [
            f'{k.split("_")[1]}w {_fmt(v["images_per_s"], 1)}'
            for k, v in conv.items() if k.startswith('workers_')
        ]
        rows.append(
            ('Image conversion images/s', ', '.join(per), '-', '-', '-'))
    ev = figures.get('evaluation')
    if ev:
        rows.append((f'Evaluation, {ev["num_images"]:,} images (s)',
                     _fmt(ev['total_s']), f'{ev["metrics"]} metrics', '-',
                     _mark(goals, 'evaluation_s')))
    mem = figures.get('memory')
    for mode, label in (('train', 'training step'), ('infer', 'inference')):
        if mem and mode in mem:
            plugin = mem[mode].get('plugin')
            ref = mem[mode].get('torchvision')
            batch = (plugin or ref)['batch_size']
            rows.append(
                (f'Peak RSS MiB, {label} (batch {batch})',
                 _fmt(plugin['peak_rss_mb'] if plugin else None),
                 f'torchvision {_fmt(ref["peak_rss_mb"])}' if ref else '-',
                 f'{plugin["peak_rss_mb"] / ref["peak_rss_mb"]:.2f}x'
                 if plugin and ref else '-', '-'))
    return rows


def machine_line(machine: dict) -> str:
    """One line naming the machine: CPU, cores, threads, GPU."""
    gpu = machine.get('gpu') or 'no GPU'
    versions = machine.get('versions', {})
    return (f'{machine["cpu_model"]}, {machine["usable_cpus"]} cores, '
            f'torch {versions.get("torch")} with '
            f'{machine["torch_threads"]} threads, {gpu}; load average '
            f'{machine["load_average"][0]:.2f} at the start' +
            (f', {machine["load_average_end"][0]:.2f} at the end'
             if 'load_average_end' in machine else ''))


def format_table(figures: dict) -> str:
    """The benchmark's one table (Markdown), under a line naming the
    machine."""
    header = ('What', 'cxr_mmdet', 'Reference', 'Ratio', 'Goal')
    rows = table_rows(figures)
    widths = [
        max(len(r[i]) for r in [header] + rows) for i in range(len(header))
    ]

    def line(cells):
        return '| ' + ' | '.join(c.ljust(w)
                                 for c, w in zip(cells, widths)) + ' |'

    lines = []
    if 'machine' in figures:
        lines.append(f'Machine: {machine_line(figures["machine"])}')
        lines.append('')
    lines.append(line(header))
    lines.append('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    lines.extend(line(r) for r in rows)
    return '\n'.join(lines)
