#!/usr/bin/env bash
# Distributed training through torchrun (mmengine launcher=pytorch).
#   tools/dist_train.sh CONFIG NPROC [train.py options]
# NNODES, NODE_RANK, PORT, MASTER_ADDR as in mmdet's script; DIST_TOOL
# (default train.py) names the tool of tools/ it runs (dist_test.sh sets
# test.py).
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python}"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/${DIST_TOOL:-train.py}" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
