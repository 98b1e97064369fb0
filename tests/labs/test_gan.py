"""The GAN lecture's lab: the quick setting on the real MNIST (every claim must hold), and its pieces."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.labs import gan
from glassgrad.labs._lab import LabContext
from tests.conftest import MNIST_DIR

FIGURES = ("js_vs_wasserstein", "ring_samples", "ring_critics", "dcgan_samples", "wgan-gp_samples",
           "dcgan_interpolation", "losses_vs_frechet")


@pytest.fixture(scope="module")
def quick(long_lab_runs):
    return long_lab_runs["gan"]


def test_gan_claims_hold(quick):
    assert quick.error is None, quick.error
    if (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        assert quick.results["digits"]["dataset"] == "MNIST"
    failed = [c for c in quick.claims if not c.holds]
    assert not failed, failed
    assert len(quick.claims) == 9
    assert all(c.expected for c in quick.claims)


def test_gan_figures_and_results(quick):
    assert sorted(quick.figures) == sorted(f"{n}.png" for n in FIGURES)
    ring = quick.results["ring"]
    assert set(gan.RING_METHODS) <= set(ring)
    assert all(0 <= ring[m]["modes_covered"] <= 8 for m in gan.RING_METHODS)
    digits = quick.results["digits"]
    for kind in ("dcgan", "wgan-gp"):
        assert len(digits[kind]["frechet"]) == 5  # before training and at 4 checkpoints
    assert "JS = log 2 - L = log 2 - V/2" in " ".join(quick.text)


def test_two_intervals_do_not_overlap_and_are_d_apart():
    real, fake = gan.two_intervals(5.0, 1000, np.random.default_rng(0))
    assert real.shape == fake.shape == (1000, 1)
    assert real.max() < fake.min()
    assert fake.mean() - real.mean() == pytest.approx(5.0, abs=1e-5)  # W1 of a shifted copy: the shift


def test_gradient_penalty_matches_its_definition_and_is_differentiable():
    gg.manual_seed(0)
    critic = gan.mlp(2, 8, 1, nn.LeakyReLU).to(gg.float64)
    real, fake = gg.randn(16, 2, dtype=gg.float64), gg.randn(16, 2, dtype=gg.float64)
    gg.manual_seed(1)
    penalty, norms = gan.gradient_penalty(critic, real, fake)
    gg.manual_seed(1)
    eps = gg.rand(16, 1).numpy().astype(np.float64)  # the same draw as inside
    x_hat = gg.tensor(eps * real.numpy() + (1 - eps) * fake.numpy()).requires_grad_(True)
    (g,) = gg.autograd.grad(critic(x_hat).sum(), x_hat)
    expected = np.linalg.norm(g.numpy(), axis=1)
    np.testing.assert_allclose(norms.numpy(), expected, rtol=1e-10)
    assert penalty.item() == pytest.approx(((expected - 1) ** 2).mean(), rel=1e-10)
    penalty.backward()  # the double backward reaches the critic's weights
    assert critic[0].weight.grad is not None and np.abs(critic[0].weight.grad.numpy()).sum() > 0
    big = gg.tensor(np.full((4, 2), 3.0))
    flat = nn.Linear(2, 1).to(gg.float64)
    with gg.no_grad():
        flat.weight.copy_(gg.tensor([[0.3, 0.4]], dtype=gg.float64))  # gradient norm 0.5 everywhere
    two, n = gan.gradient_penalty(flat, big, -big)
    one, _ = gan.gradient_penalty(flat, big, -big, one_sided=True)
    assert n.numpy() == pytest.approx(np.full(4, 0.5))
    assert two.item() == pytest.approx(0.25) and one.item() == 0.0


def test_wgan_gp_critic_loss_gives_the_weights_pytorchs_gradients():
    """The double backward through the penalty, checked where a bug would hide: the weights' gradients."""
    torch = pytest.importorskip("torch")
    gg.manual_seed(0)
    critic = gan.mlp(2, 16, 1, nn.LeakyReLU).to(gg.float64)
    real, fake = gg.randn(32, 2, dtype=gg.float64), gg.randn(32, 2, dtype=gg.float64)
    gg.manual_seed(1)
    eps = torch.tensor(gg.rand(32, 1).numpy().astype(np.float64))  # the draw the penalty makes
    gg.manual_seed(1)
    penalty, _ = gan.gradient_penalty(critic, real, fake)
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    loss.backward()
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 16),
                                 torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1)).double()
    with torch.no_grad():
        for t, p in zip(theirs.parameters(), critic.parameters(), strict=True):
            t.copy_(torch.tensor(p.detach().numpy()))
    r, f = torch.tensor(real.numpy()), torch.tensor(fake.numpy())
    x_hat = (eps * r + (1 - eps) * f).requires_grad_(True)
    (g,) = torch.autograd.grad(theirs(x_hat).sum(), x_hat, create_graph=True)
    expected = theirs(f).mean() - theirs(r).mean() + 10 * ((g.norm(dim=1) - 1) ** 2).mean()
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for t, p in zip(theirs.parameters(), critic.parameters(), strict=True):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_dcgan_shapes_and_init():
    gg.manual_seed(0)
    for side in (28, 8):
        g, d = gan.dcgan_generator(16, 8, side), gan.dcgan_discriminator(8, side)
        gan.dcgan_init(g)
        x = g(gg.randn(3, 16, 1, 1))
        assert tuple(x.shape) == (3, 1, side, side)
        assert tuple(d(x).shape) == (3, 1)
    g = gan.dcgan_generator(64, 64, 28)
    gan.dcgan_init(g)
    assert g[0].weight.detach().numpy().std() == pytest.approx(0.02, rel=0.05)
    assert g[1].weight.detach().numpy().mean() == pytest.approx(1.0, abs=0.01)  # BatchNorm scales near 1
    assert not any(isinstance(m, nn.BatchNorm2d) for m in gan.dcgan_discriminator(8, 28, batch_norm=False).modules())


def test_ring_wgan_gp_trains_and_keeps_gradient_norm_near_one(tmp_path):
    gg.manual_seed(0)
    ctx = LabContext(out_dir=tmp_path, progress=False)
    run = gan.train_ring(ctx, "WGAN-GP", 40, 0.05, np.random.default_rng(0), width=32, batch=64)
    assert len(run.snapshots) == 4 and run.snapshots[-1][0] == 40
    assert 0.5 < run.interpolate_grad_norm < 1.5
    assert run.critic_on_grid.shape == (61, 61)


def test_digits_without_mnist_use_the_8x8_digits_and_say_so(tmp_path, monkeypatch):
    def no_mnist(*args, **kwargs):
        raise FileNotFoundError("MNIST hidden by the test")

    monkeypatch.setattr("glassgrad.datasets.digits.load_mnist", no_mnist)
    ctx = LabContext(out_dir=tmp_path, progress=False)
    with pytest.warns(UserWarning, match="8x8 digits"):
        runs, info = gan.digits(ctx)
    assert info["dataset"].startswith("scikit-learn 8x8 digits") and info["side"] == 8
    gan._report_digits(ctx, runs, info)
    assert any("MNIST was not available" in t for t in ctx.text)
    assert runs[0].interpolation.shape == (8, 6, 8, 8)
    assert runs[0].frechet[-1] < runs[0].frechet[0]  # the DCGAN learned something on the small digits too
