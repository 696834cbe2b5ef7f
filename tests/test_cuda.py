"""``--device cuda``: training on a GPU, resuming there, and the CPU reading what it wrote.

Skipped where torch sees no CUDA device (the project machine, CI). Run on a GPU machine with
``pytest tests/test_cuda.py`` (``tools/gpu_check.sh`` does that with the other GPU checks).
"""

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import assert_same_weights, train_interrupted
from safetensors.torch import load_file

from chordscope.fit import TrainConfig
from chordscope.models import build_model
from chordscope.recognise import load_recogniser, predict
from chordscope.runs import train_recogniser

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: these tests check --device cuda"
)

SMALL = TrainConfig(
    steps=40, batch_size=64, n_val=128, n_test=128, eval_every=20, checkpoint_every=20
)


def _history(run):
    rows = [line.split(",") for line in (run / "history.csv").read_text().splitlines()[1:]]
    return np.array([[float(v) for v in row[:2]] for row in rows])  # step, train_loss


def test_cuda_trains_what_the_cpu_trains(tmp_path):
    cpu = train_recogniser(replace(SMALL, device="cpu"), tmp_path / "cpu").out
    gpu = train_recogniser(replace(SMALL, device="cuda"), tmp_path / "gpu").out
    # same batches, same initial weights: the losses agree to the precision of the GPU's
    # convolutions (TF32 where cuDNN chooses it), the weights closely
    np.testing.assert_allclose(_history(gpu), _history(cpu), rtol=0.05)
    a = load_file(str(cpu / "model.safetensors"))
    b = load_file(str(gpu / "model.safetensors"))
    assert set(a) == set(b) and all(t.device.type == "cpu" for t in b.values())
    for k in a:
        if a[k].is_floating_point():
            torch.testing.assert_close(b[k], a[k], rtol=0.05, atol=0.02)
    metrics = json.loads((gpu / "metrics.json").read_text())
    assert metrics["steps"] == SMALL.steps and metrics["test_accuracy"] > 3 / 25


def test_cuda_runs_repeat_and_resume_equals_one_run(tmp_path):
    config = replace(SMALL, device="cuda")
    straight = train_recogniser(config, tmp_path / "a").out
    assert_same_weights(straight, train_recogniser(config, tmp_path / "again").out)
    train_interrupted(train_recogniser, config, tmp_path / "b", stop_after=25)
    assert json.loads((tmp_path / "b" / "checkpoint" / "checkpoint.json").read_text())["step"] == 25
    train_recogniser(config, tmp_path / "b", resume=True)
    assert_same_weights(straight, tmp_path / "b")


def test_a_gpu_model_labels_audio_on_the_cpu(tmp_path):
    out = train_recogniser(replace(SMALL, device="cuda"), tmp_path / "gpu").out
    rec = load_recogniser(out)
    assert next(rec.model.parameters()).device.type == "cpu"
    t = np.arange(3 * 16000) / 16000
    y = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)) / 4  # C major
    sf.write(tmp_path / "c.wav", y.astype(np.float32), 16000)
    segments = predict(tmp_path / "c.wav", model=out / "model.safetensors")
    assert segments and all(s.label in rec.labels for s in segments)


def test_chordtcn_labels_a_spectrogram_alike_on_gpu_and_cpu():
    torch.manual_seed(0)
    arch = TrainConfig(data="music", model="ChordTCN", channels=(16, 32, 64)).architecture(25)
    model = build_model(arch).eval()
    F = torch.rand(73, 600)
    with torch.no_grad():
        on_cpu = model.frame_logits(F)
        on_gpu = model.cuda().frame_logits(F.cuda()).cpu()
    torch.testing.assert_close(on_gpu, on_cpu, rtol=1e-2, atol=1e-2)
    assert (on_gpu.argmax(1) == on_cpu.argmax(1)).float().mean() > 0.99


def test_torchrun_with_nccl_on_one_gpu(tmp_path):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"]
    args = ["-m", "chordscope", "train", "--device", "cuda", "--steps", "6", "--batch-size", "32"]
    proc = subprocess.run(
        [*cmd, *args, "--out", str(tmp_path / "ddp")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "ddp" / "model.safetensors").is_file()
