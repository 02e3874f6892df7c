# Copyright (c) cxr_mmdet contributors. All rights reserved.
from .plots import (plot_loss_curves, plot_metric_curves, plot_per_class,
                    plot_roc_curves)
from .roc_json import (latest_roc_json, load_roc_json, save_roc_json,
                       to_json_safe)
from .scalars import (METRIC_KEYS, ScalarLog, checkpoint_epochs,
                      losses_per_epoch, metrics_per_step, read_scalars)
from .work_dir_plots import (WorkDirPlots, collect_per_class, parse_per_class,
                             plot_work_dir)

__all__ = [
    'plot_loss_curves', 'plot_metric_curves', 'plot_per_class',
    'plot_roc_curves', 'latest_roc_json', 'load_roc_json', 'save_roc_json',
    'to_json_safe', 'METRIC_KEYS', 'ScalarLog', 'checkpoint_epochs',
    'losses_per_epoch', 'metrics_per_step', 'read_scalars', 'WorkDirPlots',
    'collect_per_class', 'parse_per_class', 'plot_work_dir'
]
