# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Bad inputs, round 2: each gets a one-line error naming the file, row or
option, or is skipped and listed; nothing is evaluated from weights that
were never loaded.

Tables:

- ``CHECKPOINT_CASES``: checkpoints that do not fit the model, or are
  damaged, given to ``tools/test.py`` and ``tools/infer.py``;
- ``TABLE_CASES``: tables given to data preparation;
- single tests for a PNG of another size than its XML, a folder of
  inference inputs with bad images, the out dir, config paths, resuming
  onto a damaged checkpoint, a non-UTF-8 log and a killed prep's workers.
"""
from __future__ import annotations

import gzip
import json
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from cxr_mmdet.classes import CXR_CLASSES, CXR_PALETTE
from cxr_mmdet.testing import write_voc_tree
from cxr_mmdet.testing import write_png
from .conftest import (ROOT, kill_when, read_text, start_tool, tool_command,
                       write_tiny_config)
from .test_bad_inputs import annotations, prepare, write_raw

# ------------------------------------------------------------ checkpoints


def _build_model(config: str, **cfg_options):
    """The config's model with fresh weights (seeded)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import cxr_mmdet  # noqa: F401
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def save_checkpoint(path: Path, state_dict, classes=CXR_CLASSES) -> str:
    """A checkpoint in mmengine's layout (meta with the dataset's names)."""
    import torch
    torch.save(
        dict(
            meta=dict(
                dataset_meta=dict(
                    classes=tuple(classes), palette=list(CXR_PALETTE))),
            state_dict=state_dict), path)
    return str(path)


@pytest.fixture(scope='module')
def model_files(tmp_path_factory, tiny_data) -> dict:
    """A tiny config, a checkpoint that fits it and checkpoints that do
    not."""
    import torch
    root = tmp_path_factory.mktemp('checkpoints')
    config = write_tiny_config(
        str(root / 'tiny.py'), tiny_data['data_root'], epochs=1)
    good = save_checkpoint(root / 'good.pth',
                           _build_model(config).state_dict())
    three = _build_model(
        config, **{'model.bbox_head.num_classes': 3}).state_dict()
    files = dict(
        config=config,
        root=root,
        good=good,
        three_classes=save_checkpoint(root / 'three_classes.pth', three,
                                      CXR_CLASSES[:3]),
        unrelated=save_checkpoint(
            root / 'unrelated.pth',
            torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3),
                                torch.nn.Linear(8, 2)).state_dict()))
    torch.save({'bar': 1}, root / 'bar.pth')
    files['bar'] = str(root / 'bar.pth')
    (root / 'empty.pth').write_bytes(b'')
    files['empty'] = str(root / 'empty.pth')
    data = Path(good).read_bytes()
    (root / 'truncated.pth').write_bytes(data[:len(data) // 2])
    files['truncated'] = str(root / 'truncated.pth')
    return files


@dataclass
class CheckpointCase:
    name: str
    #: regexes the error message must match (besides the file name)
    match: tuple[str, ...]


# yapf: disable
CHECKPOINT_CASES = {
    '3-class classifier': CheckpointCase(
        'three_classes', (r'tensors of another shape: .*bbox_head\.cls_',
                          r'checkpoint \(\d+, .*\) vs model')),
    'unrelated checkpoint': CheckpointCase(
        'unrelated', (r'missing keys: backbone\.', r'unexpected keys: 0\.')),
    "{'bar': 1}": CheckpointCase(
        'bar', (r'missing keys: backbone\.', 'unexpected keys: bar')),
    'empty file': CheckpointCase('empty', ('empty',)),
    'truncated file': CheckpointCase('truncated', ('truncated or corrupt',)),
}
# yapf: enable


def _run_test_tool(config: str, checkpoint: str, work_dir: str):
    """What ``tools/test.py`` runs (the tool itself is run in
    :func:`test_tools_end_on_a_bad_input_with_one_line`)."""
    from mmengine.runner import Runner

    from cxr_mmdet.apis import build_test_cfg, load_checkpoint_strict
    runner = Runner.from_cfg(
        build_test_cfg(config, checkpoint, work_dir=work_dir))
    load_checkpoint_strict(runner, checkpoint)
    return runner.test()


def _run_infer_tool(config: str, checkpoint: str, inputs: list[str],
                    out_dir: str, score_thr: float = 0.3) -> dict:
    """What ``tools/infer.py`` runs."""
    from cxr_mmdet.apis import run_inference
    return run_inference(
        config, checkpoint, inputs, out_dir, score_thr, progress=False)


@pytest.mark.parametrize('case', list(CHECKPOINT_CASES))
def test_test_tool_refuses_a_checkpoint_that_does_not_fit(
        case, model_files, tmp_path):
    from cxr_mmdet.apis import CheckpointError
    spec = CHECKPOINT_CASES[case]
    path = model_files[spec.name]
    work_dir = tmp_path / 'work'
    with pytest.raises(CheckpointError) as info:
        _run_test_tool(model_files['config'], path, str(work_dir))
    message = str(info.value)
    assert repr(path) in message
    for pattern in spec.match:
        assert __import__('re').search(pattern, message), message
    assert '\n' not in message
    assert not list(work_dir.rglob('metrics.json'))


@pytest.mark.parametrize('case', list(CHECKPOINT_CASES))
def test_infer_tool_refuses_a_checkpoint_that_does_not_fit(
        case, model_files, tiny_data, tmp_path):
    import re

    from cxr_mmdet.apis import CheckpointError
    spec = CHECKPOINT_CASES[case]
    path = model_files[spec.name]
    image = sorted(
        Path(tiny_data['data_root'], 'VOC2007', 'JPEGImages').glob('*.png'))[0]
    out_dir = tmp_path / 'infer'
    with pytest.raises(CheckpointError) as info:
        _run_infer_tool(model_files['config'], path, [str(image)],
                        str(out_dir), score_thr=0)
    message = str(info.value)
    assert repr(path) in message
    for pattern in spec.match:
        assert re.search(pattern, message), message
    assert not (out_dir / 'predictions.json').exists()


def test_fitting_checkpoint_is_tested(model_files, tmp_path):
    """The control: the same path accepts the checkpoint that fits (its
    inference is tested below)."""
    metrics = _run_test_tool(model_files['config'], model_files['good'],
                             str(tmp_path / 'work'))
    assert 'coco/bbox_mAP' in metrics


def test_load_from_for_fine_tuning_still_skips_by_shape(
        model_files, tmp_path, capsys):
    """``load_from`` keeps mmengine's behaviour: tensors of another shape
    are skipped and reported (mmengine prints the report), the others
    copied."""
    import torch
    from mmengine.runner import Runner

    from cxr_mmdet.apis import build_train_cfg
    cfg = build_train_cfg(
        model_files['config'],
        work_dir=str(tmp_path / 'work'),
        cfg_options=dict(load_from=model_files['three_classes']))
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert 'size mismatch for bbox_head.cls_convs' in capsys.readouterr().out
    three = torch.load(model_files['three_classes'])['state_dict']
    own = runner.model.state_dict()
    key = 'backbone.conv1.conv.weight'
    assert key in three and torch.equal(own[key], three[key])


# ----------------------------------------------------------------- tables


def _gzip_truncated(raw: Path) -> dict:
    data = gzip.compress((raw / 'train.csv').read_bytes())
    (raw / 'train.csv.gz').write_bytes(data[:len(data) // 2])
    return dict(vinbig_csv=str(raw / 'train.csv.gz'))


def _zero_bytes(raw: Path) -> dict:
    (raw / 'BBox_List_2017.csv').write_bytes(b'')
    return {}


def _missing_csv(raw: Path) -> dict:
    return dict(nih_csv=str(raw / 'no_such.csv'))


def _truncated_in_a_quote(raw: Path) -> dict:
    text = (raw / 'train.csv').read_text()
    (raw / 'train.csv').write_text(text + 'v1,"Pleural thick')
    return {}


def _header_only_newline(raw: Path) -> dict:
    (raw / 'train.csv').write_text('\n\n')
    return {}


@dataclass
class TableCase:
    mutate: Callable[[Path], dict]
    #: the file the message must name (relative to the raw folder)
    named: str
    match: str


# yapf: disable
TABLE_CASES = {
    'missing CSV': TableCase(_missing_csv, 'no_such.csv',
                             r'(?i)no such|not exist|not found'),
    'truncated .csv.gz': TableCase(_gzip_truncated, 'train.csv.gz',
                                   'truncated or corrupt'),
    '0-byte CSV': TableCase(_zero_bytes, 'BBox_List_2017.csv',
                            r'empty \(0 bytes\)'),
    'CSV cut inside a quoted field': TableCase(
        _truncated_in_a_quote, 'train.csv', 'cannot parse as CSV'),
    'CSV of blank lines': TableCase(_header_only_newline, 'train.csv',
                                    'no header row'),
}
# yapf: enable


@pytest.mark.parametrize('name', list(TABLE_CASES))
def test_bad_table_is_a_message_naming_the_file(name, tmp_path):
    case = TABLE_CASES[name]
    raw = tmp_path / 'raw'
    write_raw(raw)
    options = case.mutate(raw)
    with pytest.raises(ValueError, match=case.match) as info:
        prepare(raw, tmp_path / 'out', **options)
    assert str(raw / case.named) in str(info.value)
    assert not (tmp_path / 'out').exists()


def test_overlong_image_id_is_rejected_and_listed(tmp_path):
    """An id longer than a file name may be is an unsafe id: dropped and
    counted (an error with ``strict``), the other images intact."""
    raw = tmp_path / 'raw'
    write_raw(raw)
    long_name = 'a' * 300 + '.png'
    with open(raw / 'BBox_List_2017.csv', 'a') as f:
        f.write(f'{long_name},Effusion,10,10,20,20\n')
    summary = prepare(raw, tmp_path / 'out')
    assert summary['dropped_rows']['nih'] == {'unsafe_image_id': 1}
    assert len(annotations(tmp_path / 'out')) == 9
    with pytest.raises(ValueError, match='a' * 40):
        prepare(raw, tmp_path / 'strict', strict=True)


# ------------------------------------------------------ dataset and infer


def test_png_of_another_size_than_its_xml_stops_the_dataset(tmp_path):
    from cxr_mmdet.datasets import CXRVOCDataset
    from cxr_mmdet.datasets.cxr_voc import AnnotationError
    data_root = str(tmp_path / 'VOCdevkit')
    truth = write_voc_tree(data_root, num_trainval=3, num_test=2, size=96)
    img_id = next(i for i, t in truth.items() if t['split'] == 'test')
    png = Path(data_root, 'VOC2007', 'JPEGImages', f'{img_id}.png')
    write_png(png, np.zeros((64, 80), np.uint8))
    with pytest.raises(AnnotationError) as info:
        CXRVOCDataset(
            data_root=data_root,
            ann_file='VOC2007/ImageSets/Main/test.txt',
            data_prefix=dict(sub_data_root='VOC2007/'),
            test_mode=True,
            pipeline=[])
    message = str(info.value)
    assert f'{img_id}.xml' in message and str(png) in message
    assert '96 x 96' in message and '80 x 64' in message


def _bad_inputs_folder(folder: Path, good: Path) -> dict[str, str]:
    """A folder with one good image and three bad ones; name -> reason."""
    folder.mkdir()
    (folder / 'good.png').write_bytes(good.read_bytes())
    data = good.read_bytes()
    (folder / 'truncated.png').write_bytes(data[:len(data) // 3])
    (folder / 'text.png').write_text('not an image\n')
    (folder / 'empty.dcm').write_bytes(b'')
    return {
        'truncated.png': 'cannot read image',
        'text.png': 'cannot read image',
        'empty.dcm': 'cannot read image'
    }


def test_infer_goes_past_bad_images_and_lists_them(model_files, tiny_data,
                                                   tmp_path):
    from mmengine.logging import MMLogger

    from cxr_mmdet.apis import inference_exit_code
    from .test_bad_inputs import _Records
    good = sorted(
        Path(tiny_data['data_root'], 'VOC2007', 'JPEGImages').glob('*.png'))[0]
    bad = _bad_inputs_folder(tmp_path / 'in', good)
    out_dir = tmp_path / 'out'
    logger = MMLogger.get_current_instance()
    records = _Records()
    logger.addHandler(records)
    try:
        record = _run_infer_tool(model_files['config'], model_files['good'],
                                 [str(tmp_path / 'in')], str(out_dir),
                                 score_thr=0)
    finally:
        logger.removeHandler(records)
    written = json.loads((out_dir / 'predictions.json').read_text())
    assert [osp.basename(r['file']) for r in written['images']] == [
        'good.png'
    ]
    assert written['images'][0]['detections']
    failed = {osp.basename(f['file']): f['reason'] for f in written['failed']}
    assert sorted(failed) == sorted(bad)
    for name, reason in bad.items():
        assert name in failed[name] and reason in failed[name]
    skipped = [m for m in records.messages if 'skipped an unreadable' in m]
    for name in bad:
        assert sum(str(tmp_path / 'in' / name) in m for m in skipped) == 1
    assert inference_exit_code(record) == 0
    assert inference_exit_code(record, strict=True) == 1
    # nothing readable at all: exit 1
    (tmp_path / 'in' / 'good.png').unlink()
    record = _run_infer_tool(model_files['config'], model_files['good'],
                             [str(tmp_path / 'in')], str(out_dir))
    assert record['images'] == [] and len(record['failed']) == 3
    assert inference_exit_code(record) == 1


def test_out_dir_that_is_a_file_is_found_before_inference(
        model_files, tiny_data, tmp_path):
    from cxr_mmdet.apis import run_inference
    image = sorted(
        Path(tiny_data['data_root'], 'VOC2007', 'JPEGImages').glob('*.png'))[0]
    out = tmp_path / 'out'
    out.write_text('a file')
    # the checkpoint does not exist: the out dir must be checked first
    with pytest.raises(ValueError, match=f'--out-dir {str(out)!r} is a file'):
        run_inference(model_files['config'], str(tmp_path / 'none.pth'),
                      [str(image)], str(out))


def test_missing_config_path_is_named(model_files, tiny_data, tmp_path):
    from cxr_mmdet.apis import build_test_cfg, build_train_cfg, run_inference
    missing = str(tmp_path / 'no_config.py')
    image = sorted(
        Path(tiny_data['data_root'], 'VOC2007', 'JPEGImages').glob('*.png'))[0]
    for call in (lambda: build_train_cfg(missing),
                 lambda: build_test_cfg(missing, model_files['good']),
                 lambda: run_inference(missing, model_files['good'],
                                       [str(image)], str(tmp_path / 'o'))):
        with pytest.raises(FileNotFoundError,
                           match=f'no config file at {missing!r}'):
            call()


def test_tools_end_on_a_bad_input_with_one_line(model_files, tmp_path):
    """The command line prints ``<tool>: error: <message>``, no
    traceback, exit status 1."""
    proc = subprocess.run(
        tool_command('test', model_files['config'], model_files['bar'],
                     '--work-dir', str(tmp_path / 'w')),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith('test: error: checkpoint ')
    assert model_files['bar'] in lines[-1]
    assert 'Traceback' not in proc.stderr


def test_exit_on_user_error_keeps_tracebacks_of_other_errors():
    from cxr_mmdet.apis import exit_on_user_error
    with pytest.raises(SystemExit) as info:
        with exit_on_user_error('tool'):
            raise FileNotFoundError(f'no config file at {"x.py"!r}')
    assert info.value.code == "tool: error: no config file at 'x.py'"
    with pytest.raises(KeyError):
        with exit_on_user_error('tool'):
            raise KeyError('a bug')


# --------------------------------------------------------------- resuming


def test_resume_onto_a_truncated_last_checkpoint_falls_back(tmp_path):
    import torch

    import cxr_mmdet  # noqa: F401  installs the resume fallback
    from mmengine.runner import runner as runner_mod
    work = tmp_path / 'work'
    work.mkdir()
    torch.save({'state_dict': {'w': torch.zeros(3)}}, work / 'epoch_1.pth')
    torch.save({'state_dict': {'w': torch.ones(3)}}, work / 'epoch_2.pth')
    data = (work / 'epoch_3.pth')
    torch.save({'state_dict': {'w': torch.ones(300)}}, data)
    data.write_bytes(data.read_bytes()[:200])
    (work / 'last_checkpoint').write_text(str(work / 'epoch_3.pth'))
    found = runner_mod.find_latest_checkpoint(str(work))
    assert found == str(work / 'epoch_2.pth')
    # the numbered fallback skips a damaged file too
    (work / 'epoch_2.pth').write_bytes(b'')
    assert runner_mod.find_latest_checkpoint(str(work)) == str(
        work / 'epoch_1.pth')


def test_damaged_checkpoint_for_resume_or_load_from_is_named(
        model_files, tmp_path):
    from cxr_mmdet.apis import build_train_cfg
    for name in ('empty', 'truncated'):
        path = model_files[name]
        with pytest.raises(ValueError,
                           match=f'--resume: checkpoint {path!r}'):
            build_train_cfg(model_files['config'], resume=path)
        with pytest.raises(ValueError,
                           match=f'load_from: checkpoint {path!r}'):
            build_train_cfg(
                model_files['config'], cfg_options=dict(load_from=path))


# -------------------------------------------------------------- plotting


def test_non_utf8_byte_in_a_log_skips_that_line(tmp_path):
    from cxr_mmdet.visualization.scalars import read_scalars
    run = tmp_path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    lines = [
        json.dumps(dict(loss=1.0, lr=0.1, epoch=1, iter=1, step=1)).encode(),
        b'{"loss": 0.9, "note": "\xff\xfe"}',
        json.dumps(dict(loss=0.8, lr=0.1, epoch=1, iter=2, step=2)).encode(),
    ]
    (run / 'scalars.json').write_bytes(b'\n'.join(lines) + b'\n')
    log = read_scalars(tmp_path)
    assert [r['loss'] for r in log.train] == [1.0, 0.8]
    assert len(log.skipped) == 1
    assert f'{run / "scalars.json"}:2: not UTF-8' in log.skipped[0]


# ---------------------------------------------------------- killed prep


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f'/proc/{pid}/task').iterdir():
        text = (task / 'children').read_text().split()
        out += [int(c) for c in text]
    return out


def _alive(pid: int) -> bool:
    try:
        status = Path(f'/proc/{pid}/status').read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines()
                 if line.startswith('State:'))
    return 'Z' not in state.split()[1]


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason='/proc and prctl')
def test_sigkill_of_prep_with_workers_leaves_no_worker(tmp_path):
    from .test_prepare_data_kill import _partial_images, _raw
    args = _raw(tmp_path / 'raw')
    out = tmp_path / 'dataset'
    args += ['--out', str(out), '--workers', '2']
    log = str(tmp_path / 'prepare.log')
    proc = start_tool('dataset_converters/prepare_data', *args, log=log)
    workers: list[int] = []

    def converting() -> bool:
        if len(_partial_images(out)) < 2:
            return False
        workers[:] = _children(proc.pid)
        return len(workers) >= 2

    try:
        killed = kill_when(proc, converting, timeout=120, poll=0.002)
        assert killed, read_text(log)[-3000:]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(map(_alive, workers)):
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], read_text(log)[-2000:]
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, 9)
