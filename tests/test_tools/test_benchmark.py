# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""tools/analysis_tools/benchmark.py --quick: every section runs and every
figure is written."""
from __future__ import annotations

import json

from .conftest import run_cli


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


def test_quick_benchmark_writes_every_section(tmp_path):
    out = tmp_path / 'bench.json'
    proc = run_cli('analysis_tools/benchmark.py', '--quick', '--out-dir',
                   str(tmp_path), '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-4000:]
    saved = json.loads(out.read_text())
    assert saved['quick'] is True
    for section in ('machine', 'ceiling', 'training', 'inference',
                    'data_pipeline', 'data_prep', 'evaluation', 'memory'):
        assert section in saved, section
    checks = {
        'fp32 ceiling': saved['ceiling']['fp32']['best_gflops'],
        'bf16 ceiling': saved['ceiling']['bf16']['best_gflops'],
        'pipeline': saved['data_pipeline']['images_per_s'],
        'pipeline ratio': saved['data_pipeline']['ratio'],
        'tables': saved['data_prep']['tables_s']['total'],
        'conversion':
        saved['data_prep']['image_conversion']['workers_1']['images_per_s'],
        'evaluation': saved['evaluation']['total_s'],
        'memory train':
        saved['memory']['train']['plugin_fp32_nhwc']['peak_rss_mb'],
    }
    variants = saved['settings']['variants']
    assert variants == ['plugin_bf16_nhwc', 'torchvision_fp32',
                        'torchvision_bf16']
    for name in variants:
        for section in ('training', 'inference'):
            checks[f'{section} {name}'] = saved[section][name]['images_per_s']
        checks[f'share {name}'] = saved['training'][name]['share_of_ceiling']
    for section in ('training', 'inference'):
        checks[f'{section} ratio'] = \
            saved[section]['plugin_bf16_nhwc']['vs_torchvision_fp32']['ratio']
    checks['like for like'] = \
        saved['training']['plugin_bf16_nhwc']['vs_torchvision_bf16']['ratio']
    for name, value in checks.items():
        assert isinstance(value, (int, float)) and value > 0, (name, value)
    for section in ('ceiling', 'training', 'inference', 'data_pipeline',
                    'evaluation', 'memory'):
        assert all(n >= 0 for n in numbers_in(saved[section])), section
    # the two SSD300-VGG16 do the same convolutions, in every variant
    flops = {saved['training'][name]['flops'] for name in variants}
    assert len(flops) == 1 and flops.pop() > 0
    # a training step holds activations and gradients beyond the model
    memory = saved['memory']['train']['plugin_fp32_nhwc']
    assert memory['peak_rss_mb'] > memory['before_steps_mb'] > 100
    assert set(saved['goals']) == {
        'training_bf16_vs_torchvision_fp32',
        'training_bf16_vs_torchvision_bf16',
        'inference_bf16_vs_torchvision_fp32',
        'inference_bf16_vs_torchvision_bf16',
        'training_bf16_share_of_ceiling', 'pipeline_ratio', 'table_prep_s',
        'evaluation_s'
    }
    tables = [
        line for line in proc.stdout.splitlines() if line.startswith('|')
    ]
    # header + rule, training and inference 2 each (vs fp32, vs bf16),
    # ceiling 1 + 3 shares, pipeline, tables, conversion, evaluation,
    # 1 memory row
    assert len(tables) == 2 + 2 + 2 + 4 + 4 + 1
    assert proc.stdout.count('| What ') == 1
