# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Fixtures of the evaluation tests."""
from __future__ import annotations

import pytest

from .cxr_metric_cases import make_case


@pytest.fixture
def detection_case():
    return make_case()
