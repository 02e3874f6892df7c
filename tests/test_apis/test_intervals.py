# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The interval files and the printed table with intervals and sources."""
from __future__ import annotations

import json

from cxr_mmdet.apis import (format_summary, summarize_metrics,
                            write_intervals)
from cxr_mmdet.evaluation import bootstrap_intervals, metrics_by_source
from cxr_mmdet.testing import run_evaluator, synthetic_eval_samples


def test_files_and_table_hold_the_intervals_and_sources(tmp_path):
    samples = synthetic_eval_samples(40, dets_per_image=20, seed=1)
    evaluator, metrics = run_evaluator(samples)
    img_ids = [s.img_id for s in samples]
    sources = ['nih'] * 15 + ['vinbig'] * 25
    result = dict(
        intervals=bootstrap_intervals(evaluator.metrics, img_ids,
                                      range(40), 100),
        by_source=metrics_by_source(evaluator.metrics, img_ids, sources))
    paths = write_intervals(result, str(tmp_path))
    assert [p.rsplit('/', 1)[1] for p in paths] == [
        'metrics_ci.json', 'metrics_by_source.json']
    with open(paths[0]) as f:
        saved = json.load(f)
    assert saved['pascal_voc/mAP']['n_boot'] == 100
    assert set(saved) <= set(metrics)
    table = format_summary(summarize_metrics(metrics), 'test split',
                           result['intervals'], result['by_source'])
    ci = result['intervals']['cxr/mAUC']
    assert f'{ci["value"]:.3f} [{ci["low"]:.3f}, {ci["high"]:.3f}]' in table
    header = next(line for line in table.splitlines() if 'metric' in line)
    assert 'NIH' in header and 'VinBig' in header
    images = next(line for line in table.splitlines() if 'images' in line)
    assert '15' in images and '25' in images
    # without intervals: plain values, as before
    plain = format_summary(summarize_metrics(metrics))
    assert ', ' not in plain and 'NIH' not in plain
