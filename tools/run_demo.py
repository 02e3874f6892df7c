# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""The main job on embedded demo data (``make demo``).

demo data (real NIH/VinBig rows, synthetic radiographs) -> prepare the VOC
dataset -> train the CPU demo config (validating on the val split) ->
evaluate the best checkpoint (chosen on val) on the val and the test split
-> plots and the evaluation report -> both summary tables, the test one
with bootstrap intervals and NIH/VinBig columns, and the report's path.
Every step calls the package function the matching tool calls.
"""
from __future__ import annotations

import argparse
import glob
import os
import os.path as osp
import shutil
import time

DEMO_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs', 'ssd',
    'ssdlite_mobilenetv2-scratch_1xb16-28e_cxr6-demo.py')
#: The splits the best checkpoint is evaluated on, in print order.
EVAL_SPLITS = ('val', 'test')


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


def best_checkpoint(work_dir: str) -> str:
    """The ``best_*.pth`` of ``work_dir`` (chosen on val), else the last
    ``epoch_*.pth``."""
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')))
    if best:
        return best[-1]
    ckpts = sorted(
        glob.glob(osp.join(work_dir, 'epoch_*.pth')),
        key=lambda p: int(osp.basename(p)[len('epoch_'):-len('.pth')]))
    if not ckpts:
        raise FileNotFoundError(f'no best_*.pth or epoch_*.pth in {work_dir}')
    return ckpts[-1]


def main(args: argparse.Namespace) -> dict:
    """Run every step; return the metrics per split and the paths
    written."""
    from cxr_mmdet.apis import (evaluate_checkpoint, format_operating_points,
                                format_summary, train_detector)
    from cxr_mmdet.data_prep.pipeline import PrepareConfig, prepare_dataset
    from cxr_mmdet.demo_data import (DEMO_MIN_BOX_SIZE, format_counts,
                                     make_demo_dataset)
    from cxr_mmdet.visualization import plot_work_dir
    from cxr_mmdet.visualization.eval_report import write_eval_report
    out = osp.abspath(args.out)
    if args.fresh and osp.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    raw, prepared = osp.join(out, 'raw'), osp.join(out, 'prepared')
    work_dir = osp.join(out, 'work_dir')
    timings = {}

    t = _step('1/5 demo data: real NIH/VinBig rows, synthetic radiographs')
    if not osp.isfile(osp.join(raw, 'vinbig', 'train.csv')):
        manifest = make_demo_dataset(
            raw,
            num_images=args.num_images,
            seed=args.seed,
            min_box_size=DEMO_MIN_BOX_SIZE,
            progress=True)
        print(format_counts(manifest))
    else:
        print(f'reusing {raw}')
    timings['demo_data'] = time.time() - t

    t = _step('2/5 prepare: label map, WBF, balance, split, resize, VOC')
    if not osp.isfile(osp.join(prepared, 'summary.json')):
        prepare_dataset(
            PrepareConfig(
                out=prepared,
                nih_csv=osp.join(raw, 'nih', 'BBox_List_2017.csv'),
                nih_data_entry=osp.join(raw, 'nih', 'Data_Entry_2017.csv'),
                nih_images=osp.join(raw, 'nih', 'images'),
                vinbig_csv=osp.join(raw, 'vinbig', 'train.csv'),
                vinbig_images=osp.join(raw, 'vinbig', 'images'),
                seed=args.seed,
                workers=args.workers,
                # a sixth each for val and test: about 320 / 80 / 80 images
                val_fraction=DEMO_VAL_FRACTION,
                test_fraction=DEMO_TEST_FRACTION))
    else:
        print(f'reusing {prepared}')
    timings['prepare'] = time.time() - t

    data_root = osp.join(prepared, 'VOCdevkit') + '/'
    cfg_options = {
        f'{loader}.dataset.data_root': data_root
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader')
    }
    if args.epochs is not None:
        cfg_options['train_cfg.max_epochs'] = args.epochs
        cfg_options['train_cfg.val_interval'] = args.epochs

    t = _step('3/5 train ' + osp.basename(args.config))
    if not osp.isfile(osp.join(work_dir, 'training_done')):
        resume = 'auto' if glob.glob(osp.join(work_dir,
                                              'epoch_*.pth')) else None
        train_detector(
            args.config,
            work_dir=work_dir,
            resume=resume,
            cfg_options=cfg_options)
        open(osp.join(work_dir, 'training_done'), 'w').close()
    timings['train'] = time.time() - t

    checkpoint = best_checkpoint(work_dir)
    t = _step(f'4/5 evaluate {osp.basename(checkpoint)} on '
              f'{" and ".join(EVAL_SPLITS)}')
    test_options = {
        k: v
        for k, v in cfg_options.items() if k.startswith(('val', 'test'))
    }
    results = {
        split: evaluate_checkpoint(
            args.config,
            checkpoint,
            work_dir=osp.join(work_dir, 'eval', split),
            split=split,
            cfg_options=test_options,
            # test: the thresholds the val evaluation just chose
            operating_points=osp.join(work_dir, 'eval', 'val',
                                      'operating_points.json')
            if split == 'test' else None)
        for split in EVAL_SPLITS
    }
    timings['evaluate'] = time.time() - t

    t = _step('5/5 plots and the evaluation report')
    plot_dir = osp.join(work_dir, 'plots')
    plots = plot_work_dir(work_dir, plot_dir)
    for message in plots.messages:
        print(f'plots: {message}')
    report = write_eval_report(work_dir, osp.join(work_dir, 'eval', 'test'))
    timings['plots'] = time.time() - t

    for split, result in results.items():
        print(f'\n==== demo result ({split} split, best checkpoint chosen '
              'on val)')
        print(format_summary(result.summary, f'{split} split',
                             result.intervals, result.by_source))
        if result.operating_points is not None:
            print(format_operating_points(result.operating_points,
                                          f'operating points ({split})'))
        print('written: ' + ', '.join(result.paths))
    print('\ntimings (s): ' + ', '.join(
        f'{k} {v:.0f}' for k, v in timings.items()))
    print(f'work dir:   {work_dir}')
    print(f'plots:      {plot_dir}')
    print(f'checkpoint: {checkpoint}')
    print(f'report:     {report}')
    return dict(
        metrics={split: r.metrics
                 for split, r in results.items()},
        timings=timings,
        work_dir=work_dir,
        checkpoint=checkpoint,
        report=str(report))


if __name__ == '__main__':
    main(parse_args())
