# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Packaging for cxr_mmdet, an MMDetection 3.x plugin for chest X-rays."""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Read ``requirements/<name>.txt``, skipping comments and blanks."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line]


def get_version() -> str:
    """Read ``__version__`` from ``cxr_mmdet/version.py`` without import."""
    scope: dict = {}
    with open(osp.join(HERE, 'cxr_mmdet', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


setup(
    name='cxr_mmdet',
    version=get_version(),
    description='MMDetection 3.x plugin: SSD300 chest X-ray detectors',
    long_description=open(osp.join(HERE, 'README.md')).read()
    if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime') + ['mmcv==2.1.0'],
    extras_require=dict(
        tests=read_requirements('tests'),
        demo=read_requirements('demo'),
        deploy=read_requirements('deploy')),
    license='Apache License 2.0',
    zip_safe=False,
)
