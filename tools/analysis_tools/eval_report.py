# Copyright (c) cxr_mmdet contributors. All rights reserved.
"""Write one self-contained HTML evaluation report of a work dir.

``python tools/analysis_tools/eval_report.py WORK_DIR``: reads the test
evaluation (``WORK_DIR/eval/test``, else ``WORK_DIR`` itself; or
``--eval-dir``) and the training logs, writes ``WORK_DIR/report.html``
(or ``--out``): summary and per-class/per-source tables with intervals,
ROC and FROC curves, loss and metric curves, operating points and the
error gallery, every image embedded.
"""
from __future__ import annotations

import argparse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir')
    parser.add_argument('--eval-dir', help='the test evaluation work dir')
    parser.add_argument('--out', help='report path (default: '
                        'WORK_DIR/report.html)')
    return parser.parse_args(argv)


def main(args: argparse.Namespace) -> str:
    """Write the report; print and return its path."""
    from cxr_mmdet.visualization.eval_report import write_eval_report
    path = str(write_eval_report(args.work_dir, args.eval_dir, args.out))
    print(f'report: {path}')
    return path


if __name__ == '__main__':
    from cxr_mmdet.apis import exit_on_user_error
    with exit_on_user_error('eval_report'):
        main(parse_args())
