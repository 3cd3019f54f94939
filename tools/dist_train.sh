#!/usr/bin/env bash
# Distributed training with torchrun (gloo on CPU, NCCL on GPU — chosen by FERRunner).
#   tools/dist_train.sh CONFIG NPROC_PER_NODE [tools/train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT (or MASTER_PORT) on every
# node; NODE_RANK 0 hosts the rendezvous at MASTER_ADDR:PORT, e.g.
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 tools/dist_train.sh cfg.py 8
# Nodes without a shared file system: MMEngine's default metric gathering (collect_device='cpu') passes the
# results through .dist_test/ in the working directory; add --cfg-options val_evaluator.collect_device=gpu
# to gather over the process group instead (works with gloo on CPU too).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NPROC_PER_NODE [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
NPROC=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-${MASTER_PORT:-29500}}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="${ROOT}${PYTHONPATH:+:${PYTHONPATH}}"
exec python -m torch.distributed.run \
    --nnodes="${NNODES}" --node_rank="${NODE_RANK}" --master_addr="${MASTER_ADDR}" \
    --master_port="${PORT}" --nproc_per_node="${NPROC}" \
    "${ROOT}/tools/train.py" "${CONFIG}" --launcher pytorch "$@"
