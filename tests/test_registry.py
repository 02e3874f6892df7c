# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Importing cxr_mmdet registers every component into mmdet's registries."""
import importlib

import pytest


@pytest.mark.parametrize('registry,name', [
    ('DATASETS', 'CXRVOCDataset'),
    ('TRANSFORMS', 'CXRLoadImageFromFile'),
    ('DATA_SAMPLERS', 'CXRBalancedSampler'),
    ('MODELS', 'ClassWeightedSSDHead'),
    ('METRICS', 'CXRROCMetric'),
    ('METRICS', 'CXRCocoMetric'),
    ('HOOKS', 'ClassWeightHook'),
    ('HOOKS', 'CheckpointMetricsHook'),
    ('HOOKS', 'ROCCurveHook'),
    ('HOOKS', 'ChannelsLastHook'),
    ('HOOKS', 'RNGStateHook'),
    ('HOOKS', 'CheckpointAfterValHook'),
])
def test_registered_in_mmdet_registry(registry, name):
    import cxr_mmdet  # noqa: F401
    reg = getattr(importlib.import_module('mmdet.registry'), registry)
    cls = reg.get(name)
    assert cls is not None, f'{name} not in mmdet {registry}'
    assert cls.__module__.startswith('cxr_mmdet.')


def test_version_and_classes():
    import cxr_mmdet
    assert cxr_mmdet.__version__
    assert len(cxr_mmdet.CXR_CLASSES) == 6
    assert 'Infiltration' in cxr_mmdet.CXR_CLASSES
