# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Version guard for the OpenMMLab stack cxr_mmdet is built and tested on."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

#: package -> (minimum inclusive, maximum exclusive)
SUPPORTED: dict[str, tuple[str, str]] = {
    'mmcv': ('2.0.0rc4', '2.2.0'),
    'mmdet': ('3.0.0', '3.4.0'),
    'mmengine': ('0.7.1', '1.0.0'),
}


def check_versions(installed: dict[str, str] | None = None) -> None:
    """Raise ``ImportError`` naming each package outside its range.

    Args:
        installed: package -> version; read from the environment when None.
    """
    problems = []
    for name, (low, high) in SUPPORTED.items():
        if installed is None:
            try:
                found = version(name)
            except PackageNotFoundError:
                problems.append(f'{name} is not installed '
                                f'(need >={low}, <{high})')
                continue
        else:
            found = installed.get(name)
            if found is None:
                problems.append(f'{name} is not installed '
                                f'(need >={low}, <{high})')
                continue
        if not Version(low) <= Version(found) < Version(high):
            problems.append(f'{name}=={found} is installed, '
                            f'cxr_mmdet needs >={low}, <{high}')
    if problems:
        raise ImportError(
            'cxr_mmdet: incompatible OpenMMLab stack: ' +
            '; '.join(problems) +
            '. Run `make setup` (tools/bootstrap.sh) to build the tested '
            'stack: mmcv 2.1.0, mmdet 3.3.0, mmengine 0.10.7.')
