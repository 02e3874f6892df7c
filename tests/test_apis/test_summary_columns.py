# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The per-class table says which AP each column shows."""
from __future__ import annotations

from cxr_mmdet.apis import format_summary, summarize_metrics
from cxr_mmdet.classes import CXR_CLASSES


def test_per_class_columns_are_ap50_then_ap_50_95():
    metrics = {
        'coco/bbox_mAP': 0.2,
        'coco/Cardiomegaly_precision': 0.25,
        'coco/Cardiomegaly_precision_50': 0.625,
        'cxr/AUC_Cardiomegaly': 0.875,
    }
    summary = summarize_metrics(metrics)
    row = summary['per_class']['Cardiomegaly']
    assert row == dict(AP50=0.625, AP=0.25, AUC=0.875)
    assert summary['per_class']['Nodule/Mass'] == dict(
        AP50=None, AP=None, AUC=None)
    # terminaltables rows: '| cell | cell |', rules '+----+'
    rows = [[c.strip() for c in line.strip('|').split('|')]
            for line in format_summary(summary).splitlines()
            if line.startswith('|')]
    header = next(r for r in rows if r[0] == 'class')
    assert header == ['class', 'AP@.5', 'AP@[.5:.95]', 'AUC']
    cardio = next(r for r in rows if r[0] == 'Cardiomegaly')
    assert cardio == ['Cardiomegaly', '0.625', '0.250', '0.875']
    body = rows[rows.index(header) + 1:]
    assert [r[0] for r in body] == list(CXR_CLASSES)
