"""Run by tests/test_fit.py under torchrun: train, then save this rank's weights."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from chordscope.fit import TrainConfig
from chordscope.runs import train_recogniser

out, weights = Path(sys.argv[1]), Path(sys.argv[2])
config = TrainConfig(steps=4, batch_size=32, n_val=64, n_test=64, eval_every=2, snr_db=())
model = train_recogniser(config, out).model
rank = torch.distributed.get_rank()
state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
save_file(state, str(weights / f"rank{rank}.safetensors"))
torch.distributed.destroy_process_group()
