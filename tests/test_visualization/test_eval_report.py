# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The HTML evaluation report: self-contained, and what a browser shows."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from cxr_mmdet.apis import summarize_metrics, write_intervals, write_summary
from cxr_mmdet.apis.error_gallery import error_gallery
from cxr_mmdet.apis.operating_points import write_json
from cxr_mmdet.evaluation import bootstrap_intervals, metrics_by_source
from cxr_mmdet.evaluation.metrics import CXRROCMetric
from cxr_mmdet.testing import run_evaluator, synthetic_eval_samples
from cxr_mmdet.visualization.eval_report import write_eval_report

PER_CLASS = 2


@pytest.fixture(scope='module')
def report(tmp_path_factory):
    """A work dir holding what tools/test.py writes, and its report."""
    work_dir = tmp_path_factory.mktemp('work')
    samples = synthetic_eval_samples(40, dets_per_image=20, seed=2)
    evaluator, metrics = run_evaluator(samples)
    img_ids = [s.img_id for s in samples]
    write_summary(summarize_metrics(metrics), metrics, str(work_dir))
    write_intervals(
        dict(intervals=bootstrap_intervals(evaluator.metrics, img_ids,
                                           range(40), 100),
             by_source=metrics_by_source(evaluator.metrics, img_ids,
                                         ['nih'] * 20 + ['vinbig'] * 20)),
        str(work_dir))
    roc = next(m for m in evaluator.metrics if isinstance(m, CXRROCMetric))
    gallery = error_gallery(roc, PER_CLASS)
    write_json(gallery, str(work_dir / 'error_gallery.json'))
    path = write_eval_report(work_dir)
    cases = sum(len(c['false_positives']) + len(c['missed'])
                for c in gallery.values())
    return path, cases


def test_report_is_self_contained(report):
    path, cases = report
    text = path.read_text()
    assert 'http://' not in text and 'https://' not in text
    images = re.findall(r'<img [^>]*src="([^"]{0,30})', text)
    assert images and all(s.startswith('data:image/png;base64,')
                          for s in images)
    # the FROC curve and every gallery case
    assert len(images) == 1 + cases
    assert text.count('<table') == 3
    assert 'NIH' in text and 'VinBig' in text and '95% interval' in text


def test_a_browser_renders_the_tables_and_images(report, tmp_path):
    browser = shutil.which('chromium') or shutil.which('chromium-browser')
    if browser is None:
        pytest.skip('headless Chromium is not installed (.ci/run installs '
                    'the Debian package chromium)')
    path, cases = report
    flags = [browser, '--headless', '--no-sandbox', '--disable-gpu',
             '--allow-file-access-from-files']
    # the DOM after the page ran: count what the browser parsed
    dom = subprocess.run(
        flags + ['--dump-dom', path.as_uri()], capture_output=True,
        text=True, timeout=120, check=True).stdout
    assert dom.count('<table') == 3
    assert len(re.findall(r'<img ', dom)) == 1 + cases
    shot = tmp_path / 'report.png'
    subprocess.run(
        flags + [f'--screenshot={shot}', '--window-size=1200,1600',
                 path.as_uri()], capture_output=True, timeout=120,
        check=True)
    assert shot.stat().st_size > 10_000
    shutil.copy(shot, path.parent / 'report_screenshot.png')
