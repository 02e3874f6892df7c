# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Compare the class-imbalance remedies: none, sampler, weights, both.

Trains each variant (``cxr_mmdet.apis.IMBALANCE_VARIANTS``) with the demo's
model, data and schedule and its own remedy (head weighting, sampler,
negatives), evaluates the final weights on the val and test splits and
writes one table of mAP@.5 and per-class AP@.5 (markdown and JSON)::

    python tools/analysis_tools/ablate_imbalance.py \\
        --data-root demo_out/prepared/VOCdevkit/ --work-dir work_dirs/ablation
"""
from __future__ import annotations

import argparse
import os.path as osp


def get_args_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction

    from cxr_mmdet.apis import DEMO_CONFIG, IMBALANCE_VARIANTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--data-root',
        default='demo_out/prepared/VOCdevkit/',
        help='VOCdevkit folder of the prepared data (make demo writes '
        'demo_out/prepared/VOCdevkit/)')
    parser.add_argument(
        '--work-dir',
        default='work_dirs/ablate_imbalance',
        help='one sub-folder per variant; the table is written here')
    parser.add_argument(
        '--config',
        default=DEMO_CONFIG,
        help='config giving model, data and schedule (the demo config)')
    parser.add_argument(
        '--variants',
        nargs='+',
        default=list(IMBALANCE_VARIANTS),
        choices=list(IMBALANCE_VARIANTS),
        help='variants to run, in this order')
    parser.add_argument(
        '--max-epochs',
        type=int,
        default=None,
        help='override the schedule length (a quick check)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='more overrides of every variant config, key=value')
    return parser


def main(args: argparse.Namespace) -> dict:
    """Run the ablation; return the table and the paths written."""
    from cxr_mmdet.apis import (IMBALANCE_VARIANTS, format_ablation_markdown,
                                run_imbalance_ablation, write_ablation_table)
    table = run_imbalance_ablation(
        work_dir=osp.abspath(args.work_dir),
        data_root=args.data_root,
        variants={v: IMBALANCE_VARIANTS[v]
                  for v in args.variants},
        base_config=args.config,
        max_epochs=args.max_epochs,
        cfg_options=args.cfg_options)
    paths = write_ablation_table(table, args.work_dir)
    print(format_ablation_markdown(table))
    print('written: ' + ', '.join(paths))
    return dict(table=table, paths=paths)


if __name__ == '__main__':
    main(get_args_parser().parse_args())
