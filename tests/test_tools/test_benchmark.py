# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/benchmark.py --quick through its main(): every section runs."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'benchmark.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def numbers_in(value) -> list:
    """Every int/float inside ``value`` (bools excluded)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return []


def test_quick_benchmark_writes_every_section(tmp_path, capsys):
    tool = load_tool()
    out = tmp_path / 'bench.json'
    figures = tool.main(
        tool.parse_args(
            ['--quick', '--out-dir',
             str(tmp_path), '--json',
             str(out)]))
    saved = json.loads(out.read_text())
    assert saved['quick'] is True
    for section in ('machine', 'matmul', 'training', 'flop_rate', 'inference',
                    'data_pipeline', 'data_prep', 'evaluation', 'memory'):
        assert section in saved, section
    checks = {
        'training plugin':
        saved['training']['plugin']['images_per_s'],
        'training torchvision':
        saved['training']['torchvision']['images_per_s'],
        'training ratio':
        saved['training']['ratio'],
        'matmul':
        saved['matmul']['best_gflops'],
        'flop rate':
        saved['flop_rate']['percent_of_matmul'],
        'inference plugin':
        saved['inference']['plugin']['images_per_s'],
        'inference ratio':
        saved['inference']['ratio'],
        'pipeline':
        saved['data_pipeline']['images_per_s'],
        'pipeline ratio':
        saved['data_pipeline']['ratio'],
        'tables':
        saved['data_prep']['tables_s']['total'],
        'conversion':
        saved['data_prep']['image_conversion']['workers_1']['images_per_s'],
        'evaluation':
        saved['evaluation']['total_s'],
        'memory train':
        saved['memory']['train']['plugin']['peak_rss_mb'],
    }
    for name, value in checks.items():
        assert isinstance(value, (int, float)) and value > 0, (name, value)
    for section in ('training', 'inference', 'data_pipeline', 'evaluation',
                    'memory'):
        assert all(n >= 0 for n in numbers_in(saved[section])), section
    # the two SSD300-VGG16 do the same convolutions
    plugin_flops = saved['training']['plugin']['flops']
    assert plugin_flops == saved['training']['torchvision']['flops'] > 0
    # a training step holds activations and gradients beyond the model
    memory = saved['memory']['train']['plugin']
    assert memory['peak_rss_mb'] > memory['before_steps_mb'] > 100
    assert set(saved['goals']) == {
        'training_ratio', 'inference_ratio', 'training_percent_of_matmul',
        'pipeline_ratio', 'table_prep_s', 'evaluation_s'
    }
    assert figures['training']['ratio'] == saved['training']['ratio']
    printed = capsys.readouterr().out
    tables = [line for line in printed.splitlines() if line.startswith('|')]
    assert len(tables) == 2 + 8  # quick: no inference memory row
    assert printed.count('| What ') == 1
