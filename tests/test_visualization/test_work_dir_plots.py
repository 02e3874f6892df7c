# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""All plots of a work dir, and graceful handling of missing pieces."""
from __future__ import annotations

import json

import pytest

from cxr_mmdet.classes import CXR_CLASSES
from cxr_mmdet.visualization.work_dir_plots import (collect_per_class,
                                                    parse_per_class,
                                                    plot_work_dir)

NAMES = ['Cardiomegaly', 'Nodule/Mass']


@pytest.mark.parametrize('data', [
    {
        'Cardiomegaly': {
            'AP': 0.5,
            'AUC': 0.9
        },
        'Nodule/Mass': {
            'AP': 0.25
        }
    },
    {
        'AP': {
            'Cardiomegaly': 0.5,
            'Nodule/Mass': 0.25
        },
        'AUC': {
            'Cardiomegaly': 0.9
        }
    },
    [{
        'class': 'Cardiomegaly',
        'AP': 0.5,
        'AUC': 0.9
    }, {
        'class': 'Nodule/Mass',
        'AP': 0.25,
        'AUC': None
    }],
    {
        'classes': [{
            'name': 'Cardiomegaly',
            'AP': 0.5,
            'AUC': 0.9
        }, {
            'name': 'Nodule/Mass',
            'AP': 0.25
        }],
        'epoch':
        3
    },
])
def test_parse_per_class_shapes(data):
    assert parse_per_class(data, NAMES) == {
        'AP': {
            'Cardiomegaly': 0.5,
            'Nodule/Mass': 0.25
        },
        'AUC': {
            'Cardiomegaly': 0.9
        }
    }


def test_parse_per_class_rejects_garbage():
    with pytest.raises(ValueError, match='object or a list'):
        parse_per_class(3, NAMES)
    with pytest.raises(ValueError, match='lacks "class"'):
        parse_per_class([{'AP': 1}], NAMES)


def test_all_four_plots_from_a_work_dir(fake_work_dir, tmp_path):
    work_dir, _ = fake_work_dir
    result = plot_work_dir(work_dir, tmp_path / 'plots')
    assert sorted(result.written) == [
        'loss_curve', 'metrics', 'per_class', 'roc_curves'
    ]
    for path in result.written.values():
        assert path.parent == tmp_path / 'plots' and path.stat().st_size
    # the truncated line of the killed run is reported, not fatal
    assert any('not JSON' in m for m in result.messages)


def test_per_class_sources_in_order(fake_work_dir):
    from cxr_mmdet.visualization.roc_json import load_roc_json
    from cxr_mmdet.visualization.scalars import read_scalars
    work_dir, _ = fake_work_dir
    val = read_scalars(work_dir).val
    roc = load_roc_json(work_dir / 'roc/val_4.json')
    # no per_class.json: AP from the classwise COCO keys, AUC from the ROC
    classes, values = collect_per_class(work_dir, val, roc, [])
    assert classes == list(CXR_CLASSES)
    assert values['AP']['Cardiomegaly'] == pytest.approx(0.1)
    assert values['AUC'] == {n: c['auc'] for n, c in roc['classes'].items()}
    # a per_class.json takes precedence
    (work_dir / 'per_class.json').write_text(
        json.dumps({
            'AP': {
                'Cardiomegaly': 0.7
            },
            'AP@0.4': {
                'Cardiomegaly': 0.8
            }
        }))
    _, values = collect_per_class(work_dir, val, None, [])
    assert list(values) == ['AP', 'AP@0.4', 'AUC']
    assert values['AP'] == {'Cardiomegaly': 0.7}
    # without a ROC JSON the AUC comes from the logged cxr/AUC_<class> keys
    assert values['AUC']['Nodule/Mass'] == pytest.approx(0.8)


def test_empty_or_partial_work_dir_never_crashes(tmp_path, fake_work_dir):
    (tmp_path / 'empty').mkdir()
    result = plot_work_dir(tmp_path / 'empty')
    assert result.written == {}
    joined = '\n'.join(result.messages)
    assert 'no */vis_data/scalars.json' in joined
    assert 'no roc/*.json' in joined
    assert 'no per-class' in joined
    # a broken ROC JSON and per_class.json: reported, other plots written
    work_dir, _ = fake_work_dir
    (work_dir / 'roc/val_9.json').write_text('{"classes": 3}')
    (work_dir / 'per_class.json').write_text('7')
    result = plot_work_dir(work_dir)
    assert 'roc_curves' not in result.written
    assert {'loss_curve', 'metrics', 'per_class'} <= set(result.written)
    joined = '\n'.join(result.messages)
    assert 'unreadable' in joined and 'skipped' in joined
    with pytest.raises(ValueError, match='not a directory'):
        plot_work_dir(tmp_path / 'missing')
