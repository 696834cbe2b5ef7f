#!/bin/sh
# The GPU checks, in one short script for a machine with a CUDA GPU (for example the device
# machine some development sessions are lent; see README "GPUs"). From the repository root:
#   sh tools/gpu_check.sh [OUTDIR]
# Where chordscope's dependencies are not installed, wheels in .whl/ are installed into
# /tmp/site first (pip download them elsewhere for the GPU machine's Python; no network needed).
# Runs tests/test_cuda.py (train, resume and torchrun/nccl on the GPU, the CPU reading what the
# GPU wrote), benchmarks/bench_device.py (step time, CPU against GPU, same run) and one
# `chordscope train --device cuda` from the command line. Exit status: that of the tests.
set -u
out=${1:-${OUT:-/tmp/gpu-check}}
mkdir -p "$out"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD/src
else
    export PYTHONPATH=$PWD/src
fi
export PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, chordscope; print('torch', torch.__version__, torch.cuda.get_device_name(0))" || exit 1
python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tee "$out/test_cuda.log"
status=$(grep -q " passed" "$out/test_cuda.log" && ! grep -Eq "[0-9]+ (failed|error)" "$out/test_cuda.log" && echo 0 || echo 1)
python3 benchmarks/bench_device.py --steps 30 --batch-size 16 64 256 2>&1 | tee "$out/bench_device.md"
python3 -m chordscope train --device cuda --steps 300 --out /tmp/gpu-run --force 2>&1 | tail -n 5
python3 -c "import json; m = json.load(open('/tmp/gpu-run/metrics.json')); print({k: m[k] for k in ('steps', 'test_accuracy', 'examples_per_second') if k in m})"
exit "$status"
