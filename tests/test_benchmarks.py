"""The training-step benchmark workloads do the same work in both libraries: same model, weights,
batch and optimizer, so the losses of the first steps agree."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import workloads  # noqa: E402


@pytest.mark.parametrize("name", ["mlp512_adam", "lenet5_sgd", "net_1_128_1_adam", "dcgan_step", "wgan_gp_step"])
def test_training_step_workloads_match_torch(name):
    make = workloads.WORKLOADS[name].make
    gg_step, torch_step = make("glassgrad"), make("torch")
    for i in range(3):
        gg_loss, torch_loss = gg_step().item(), torch_step().item()
        assert gg_loss == pytest.approx(torch_loss, rel=1e-4), f"step {i}"
