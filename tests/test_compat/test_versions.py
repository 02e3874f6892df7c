# Copyright (c) cxr_mmdet contributors. All rights reserved.
import pytest

from cxr_mmdet.compat import check_versions


def test_installed_stack_passes():
    check_versions()


def test_out_of_range_versions_are_named():
    with pytest.raises(ImportError) as info:
        check_versions(
            dict(mmcv='2.2.0', mmdet='3.3.0', mmengine='0.10.7'))
    assert 'mmcv==2.2.0' in str(info.value)
    with pytest.raises(ImportError, match='mmdet is not installed'):
        check_versions(dict(mmcv='2.1.0', mmengine='0.10.7'))
