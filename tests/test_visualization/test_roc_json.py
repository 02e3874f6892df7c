# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""ROC JSON files: strict JSON out, checked on the way in."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from cxr_mmdet.visualization.roc_json import (latest_roc_json, load_roc_json,
                                              save_roc_json)


def test_round_trip_with_infinite_threshold_and_numpy(tmp_path):
    record = dict(
        stage='val',
        epoch=np.int64(3),
        classes={
            'A':
            dict(
                fpr=np.array([0.0, 0.5, 1.0]),
                tpr=np.array([0.0, 1.0, 1.0]),
                thresholds=np.array([np.inf, .7, .2]),
                auc=np.float64(0.75),
                num_pos=2,
                num_neg=np.int64(2)),
            'B':
            dict(
                fpr=[0, 1],
                tpr=[0, 1],
                thresholds=[np.inf, 0.1],
                auc=float('nan'))
        },
        missing={'C': dict(num_pos=0, num_neg=4)})
    path = save_roc_json(record, tmp_path / 'roc/val_3.json')
    text = path.read_text()
    assert 'Infinity' not in text and 'NaN' not in text
    raw = json.loads(text)
    assert raw['classes']['A']['thresholds'] == [None, 0.7, 0.2]
    assert raw['epoch'] == 3
    loaded = load_roc_json(path)
    assert loaded['classes']['A']['auc'] == 0.75
    assert math.isnan(loaded['classes']['B']['auc'])


def test_bad_records_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="lacks 'epoch'"):
        save_roc_json(dict(stage='val', classes={}), tmp_path / 'x.json')
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps({'classes': {'A': {'fpr': [0, 1], 'tpr': [0]}}}))
    with pytest.raises(ValueError, match="class 'A' needs fpr and tpr"):
        load_roc_json(bad)
    bad.write_text('[1, 2]')
    with pytest.raises(ValueError, match='expected an object'):
        load_roc_json(bad)


def test_latest_is_the_newest_file(tmp_path):
    assert latest_roc_json(tmp_path) is None
    rec = dict(stage='val', epoch=1, classes={})
    a = save_roc_json(rec, tmp_path / 'roc/val_10.json')
    b = save_roc_json(rec, tmp_path / 'roc/test_0.json')
    os.utime(a, ns=(10**18, 10**18))
    os.utime(b, ns=(2 * 10**18, 2 * 10**18))
    assert latest_roc_json(tmp_path) == b
