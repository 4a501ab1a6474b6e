"""The workbench app with one fault planted, for tests/e2e/test_faults.py: an MLP with exactly 13 hidden units
runs out of memory on its first forward pass, as a too-large model would on a GPU; every other model is untouched.
Started like app.py (`python tests/e2e/faulty_app.py`)."""

import torch

from workbench.models import mlp
from workbench.ui import launch

FAULTY_HIDDEN_UNITS = 13
_forward = mlp.MLP.forward


def forward_that_runs_out_of_memory(self, *args, **kwargs):
    if self.hidden.out_features == FAULTY_HIDDEN_UNITS:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    return _forward(self, *args, **kwargs)


mlp.MLP.forward = forward_that_runs_out_of_memory

if __name__ == "__main__":
    launch()
