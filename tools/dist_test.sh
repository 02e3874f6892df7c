#!/usr/bin/env bash
# Distributed testing through torchrun (mmengine launcher=pytorch).
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py options]
# NNODES, NODE_RANK, PORT, MASTER_ADDR as in mmdet's script; the launch is
# dist_train.sh's, running tools/test.py CONFIG --launcher pytorch
# CHECKPOINT [options].
set -euo pipefail
DIST_TOOL=test.py exec bash "$(dirname "$0")/dist_train.sh" "$1" "$3" "$2" \
    "${@:4}"
