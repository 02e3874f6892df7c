# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The main job on embedded demo data (``make demo``).

demo data (real NIH/VinBig rows, synthetic radiographs) -> prepare_data ->
train the CPU demo config -> test -> plots -> summary table.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import os.path as osp
import shutil
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
DEMO_CONFIG = osp.join(
    ROOT, 'configs', 'ssd', 'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f'cxr_tools_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The demo's split: 480 images -> about 320 train, 80 val, 80 test.
DEMO_VAL_FRACTION = 1 / 6
DEMO_TEST_FRACTION = 1 / 6


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='demo_out', help='output folder')
    parser.add_argument('--num-images', type=int, default=480)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--config', default=DEMO_CONFIG)
    parser.add_argument('--epochs', type=int, default=None,
                        help='override the config max_epochs')
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument(
        '--fresh', action='store_true',
        help='delete --out first (otherwise finished steps are reused)')
    return parser.parse_args(argv)


def _step(title: str) -> float:
    print(f'\n==== {title}', flush=True)
    return time.time()


def main(args: argparse.Namespace) -> dict:
    """Run every step; return the test metrics and the paths written."""
    out = osp.abspath(args.out)
    if args.fresh and osp.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    raw, prepared = osp.join(out, 'raw'), osp.join(out, 'prepared')
    work_dir = osp.join(out, 'work_dir')
    timings = {}

    t = _step('1/5 demo data: real NIH/VinBig rows, synthetic radiographs')
    if not osp.isfile(osp.join(raw, 'vinbig', 'train.csv')):
        tool = load_tool('make_demo_data')
        tool.main(tool.parse_args([
            '--out', raw, '--num-images', str(args.num_images),
            '--seed', str(args.seed)]))
    else:
        print(f'reusing {raw}')
    timings['demo_data'] = time.time() - t

    t = _step('2/5 prepare: label map, WBF, balance, split, resize, VOC')
    if not osp.isfile(osp.join(prepared, 'summary.json')):
        tool = load_tool('prepare_data')
        prep_args = [
            '--nih-csv', osp.join(raw, 'nih', 'BBox_List_2017.csv'),
            '--nih-data-entry', osp.join(raw, 'nih', 'Data_Entry_2017.csv'),
            '--nih-images', osp.join(raw, 'nih', 'images'),
            '--vinbig-csv', osp.join(raw, 'vinbig', 'train.csv'),
            '--vinbig-images', osp.join(raw, 'vinbig', 'images'),
            '--out', prepared, '--seed', str(args.seed),
            '--workers', str(args.workers),
            # a sixth each for val and test: about 320 / 80 / 80 images
            '--val-fraction', str(DEMO_VAL_FRACTION),
            '--test-fraction', str(DEMO_TEST_FRACTION)]
        tool.main(tool.parse_args(prep_args))
    else:
        print(f'reusing {prepared}')
    timings['prepare'] = time.time() - t

    data_root = osp.join(prepared, 'VOCdevkit') + '/'
    data_options = {
        f'{loader}.dataset.data_root': data_root
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    }
    if args.epochs is not None:
        data_options['train_cfg.max_epochs'] = args.epochs
        data_options['train_cfg.val_interval'] = args.epochs

    t = _step('3/5 train ' + osp.basename(args.config))
    train = load_tool('train')
    ckpts = sorted(glob.glob(osp.join(work_dir, 'epoch_*.pth')))
    if not osp.isfile(osp.join(work_dir, 'training_done')):
        train_args = [args.config, '--work-dir', work_dir, '--cfg-options']
        train_args += [f'{k}={v}' for k, v in data_options.items()]
        if ckpts:
            train_args.insert(1, '--resume')
        train.main(train.parse_args(train_args))
        open(osp.join(work_dir, 'training_done'), 'w').close()
    timings['train'] = time.time() - t

    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    ckpts = sorted(
        glob.glob(osp.join(work_dir, 'epoch_*.pth')),
        key=lambda p: int(osp.basename(p)[6:-4]))
    checkpoint = best[-1] if best else ckpts[-1]

    t = _step('4/5 test ' + osp.basename(checkpoint))
    test = load_tool('test')
    test_dir = osp.join(work_dir, 'test')
    test_args = [args.config, checkpoint, '--work-dir', test_dir,
                 '--cfg-options']
    test_args += [f'{k}={v}' for k, v in data_options.items()
                  if k.startswith(('val', 'test'))]
    metrics = test.main(test.parse_args(test_args))
    timings['test'] = time.time() - t

    t = _step('5/5 plots')
    plot = load_tool('plot_metrics')
    plot_dir = osp.join(work_dir, 'plots')
    plot.main(plot.parse_args([work_dir, '--out-dir', plot_dir]))
    timings['plots'] = time.time() - t

    from cxr_mmdet.apis import format_summary, summarize_metrics
    print('\n==== demo result (test split)')
    print(format_summary(summarize_metrics(metrics)))
    print('\ntimings (s): ' + ', '.join(
        f'{k} {v:.0f}' for k, v in timings.items()))
    print(f'work dir:   {work_dir}')
    print(f'plots:      {plot_dir}')
    print(f'checkpoint: {checkpoint}')
    return dict(metrics=metrics, timings=timings, work_dir=work_dir,
                checkpoint=checkpoint)


if __name__ == '__main__':
    main(parse_args())
