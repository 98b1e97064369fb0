"""The benchmark workloads: each builds the same model, data and step in glassgrad and in PyTorch
(same shapes, same initial weights, same batches), and returns a function that runs one step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Workload:
    description: str
    make: Callable[[str], Callable[[], None]]  # library name -> step function
    steps_per_block: int = 50


def _mlp_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        weights.append((w, b))
    return weights


def _mnist_like_batch(batch=64, features=784, classes=10, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((batch, features), dtype=np.float32)
    y = rng.integers(0, classes, batch)
    return x, y


MLP_SIZES = (784, 256, 256, 10)


def make_mlp_forward_backward(library: str):
    """MLP 784-256-256-10 with ReLU, batch 64: forward, cross-entropy, backward."""
    weights = _mlp_weights(MLP_SIZES)
    x_np, y_np = _mnist_like_batch()
    if library == "glassgrad":
        import glassgrad as lib
        import glassgrad.nn.functional as F
    else:
        import torch as lib
        import torch.nn.functional as F
    params = [(lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)) for w, b in weights]
    x, y = lib.tensor(x_np), lib.tensor(y_np)

    def step():
        h = x
        for i, (w, b) in enumerate(params):
            h = F.linear(h, w, b)
            if i < len(params) - 1:
                h = F.relu(h)
        loss = F.cross_entropy(h, y)
        for w, b in params:
            w.grad = b.grad = None
        loss.backward()

    return step


def _mlp_state_dict(sizes=MLP_SIZES):
    """The same initial weights for both libraries, under the Sequential's state-dict keys."""
    state = {}
    for i, (w, b) in enumerate(_mlp_weights(sizes)):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = w, b
    return state


def _make_train_step(library: str, optimizer: str):
    """One full training step of the MLP 784-256-256-10 (nn.Sequential), batch 64: zero_grad,
    forward, cross-entropy, backward, optimizer step."""
    x_np, y_np = _mnist_like_batch()
    state = _mlp_state_dict()
    if library == "glassgrad":
        import glassgrad as lib
        from glassgrad import nn
    else:
        import torch as lib
        from torch import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    if optimizer == "adam":
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    x, y = lib.tensor(x_np), lib.tensor(y_np)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def make_train_step_adam(library: str):
    return _make_train_step(library, "adam")


def make_train_step_sgd(library: str):
    return _make_train_step(library, "sgd")


def make_tiny_op(library: str):
    """Per-op overhead: adding two 1-element tensors that require grad (no backward)."""
    if library == "glassgrad":
        import glassgrad as gg

        a = gg.tensor([1.0], requires_grad=True)
        b = gg.tensor([2.0], requires_grad=True)
    else:
        import torch

        a = torch.tensor([1.0], requires_grad=True)
        b = torch.tensor([2.0], requires_grad=True)

    def step():
        for _ in range(100):
            a + b

    return step


def _cnn_case(layers, batch, in_shape, seed=2):
    """Input and (weight, bias) arrays for a stack of Conv3x3-ReLU-MaxPool2 blocks."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *in_shape)).astype(np.float32)
    params = []
    for cin, cout in layers:
        bound = 1 / np.sqrt(cin * 9)
        w = rng.uniform(-bound, bound, (cout, cin, 3, 3)).astype(np.float32)
        b = rng.uniform(-bound, bound, cout).astype(np.float32)
        params.append((w, b))
    return x, params


def _make_cnn(layers, batch, in_shape, padding):
    """Conv3x3-ReLU-MaxPool2 blocks with F.* functions on leaf tensors: forward, sum, backward."""

    def make(library: str):
        x_np, weights = _cnn_case(layers, batch, in_shape)
        if library == "glassgrad":
            import glassgrad as lib
            import glassgrad.nn.functional as F
        else:
            import torch as lib
            import torch.nn.functional as F
        params = [(lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)) for w, b in weights]
        x = lib.tensor(x_np)

        def step():
            h = x
            for w, b in params:
                h = F.max_pool2d(F.relu(F.conv2d(h, w, b, padding=padding)), 2)
            for w, b in params:
                w.grad = b.grad = None
            h.sum().backward()

        return step

    return make


def _mnist_cnn(nn):
    """Conv(1,32,3)-ReLU-MaxPool2-Conv(32,64,3)-ReLU-MaxPool2-Flatten-Linear(1600,10)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 10),
    )


def _block_cnn(nn):
    """The homework's block, Conv3x3(pad 1)-BatchNorm-ReLU-MaxPool2, three times (3->32->64->128
    on 64x64 images), then Flatten-Linear(128*8*8, 11)."""
    layers = []
    for cin, cout in ((3, 32), (32, 64), (64, 128)):
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 8 * 8, 11))


def _make_model_train_step(build, in_features, out_shape, batch, loss, optimizer, seed=4):
    """A full training step of an ``nn`` model: zero_grad, forward, loss, backward, optimizer
    step, which returns the loss. ``build(nn)`` makes the model; both libraries start from
    glassgrad's default initialization (seed 0), copied across, and see the same batch. ``in_features`` is the shape
    of one input; ``out_shape`` is ``("classes", k)`` for cross-entropy on k classes or
    ``("values", k)`` for MSE on k outputs; ``optimizer`` is ``"adam"`` or ``"sgd"`` (momentum
    0.9)."""

    def make(library: str):
        import glassgrad as gg

        gg.manual_seed(0)
        state = {k: v.numpy() for k, v in build(gg.nn).state_dict().items()}
        rng = np.random.default_rng(seed)
        x_np = rng.standard_normal((batch, *in_features)).astype(np.float32)
        kind, k = out_shape
        if kind == "classes":
            y_np = rng.integers(0, k, batch)
        else:
            y_np = rng.standard_normal((batch, k)).astype(np.float32)
        if library == "glassgrad":
            import glassgrad as lib
        else:
            import torch as lib
        model = build(lib.nn)
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        if optimizer == "adam":
            opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        else:
            opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = lib.nn.CrossEntropyLoss() if loss == "cross_entropy" else lib.nn.MSELoss()
        x, y = lib.tensor(x_np), lib.tensor(y_np)

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss  # for tests: both libraries' losses agree step by step

        return step

    return make


def _mlp512(nn):
    """MLP 784-512-512-10 with ReLU."""
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def _lenet5(nn):
    """LeNet-5 with ReLU and max pooling on 28x28 digits: Conv(1,6,5,pad 2)-ReLU-MaxPool2-
    Conv(6,16,5)-ReLU-MaxPool2-Flatten-Linear(400,120)-ReLU-Linear(120,84)-ReLU-Linear(84,10)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def _net_1_128_1(nn):
    """The critical-points homework's net: 1 input, 128 ReLUs, 1 output."""
    return nn.Sequential(nn.Linear(1, 128), nn.ReLU(), nn.Linear(128, 1))


def _transformer_classifier(nn):
    """TransformerEncoder(TransformerEncoderLayer(128, 4, 512, dropout=0, batch_first=True), 2),
    then mean pooling over the sequence and Linear(128, 10)."""

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(128, 4, 512, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.encoder(x).mean(1))

    return Classifier()


def make_mha_fwd_bwd(library: str):
    """MultiheadAttention(128, 4, batch_first=True) self-attention on (32, 64, 128), as the
    Transformer layers call it (need_weights=False): forward, sum, backward."""
    import glassgrad as gg

    gg.manual_seed(0)
    state = {k: v.numpy() for k, v in gg.nn.MultiheadAttention(128, 4, batch_first=True).state_dict().items()}
    x_np = np.random.default_rng(5).standard_normal((32, 64, 128)).astype(np.float32)
    if library == "glassgrad":
        import glassgrad as lib
    else:
        import torch as lib
    mha = lib.nn.MultiheadAttention(128, 4, batch_first=True)
    mha.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    x = lib.tensor(x_np, requires_grad=True)

    def step():
        mha.zero_grad()
        x.grad = None
        out, _ = mha(x, x, x, need_weights=False)
        out.sum().backward()

    return step


def _gru_classifier(nn):
    """GRU(40, 128, batch_first=True), then Linear(128, 10) on the last step's output."""

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(40, 128, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):
            out, _ = self.gru(x)
            return self.fc(out[:, -1])

    return GRUClassifier()


def _dcgan_generator(nn):
    """DCGAN generator at MNIST scale: z [N, 100, 1, 1] -> ConvT(100,128,7)-BN-ReLU (7x7) ->
    ConvT(128,64,4,2,1)-BN-ReLU (14x14) -> ConvT(64,1,4,2,1)-Tanh (28x28)."""
    return nn.Sequential(
        nn.ConvTranspose2d(100, 128, 7, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
    )


def _dcgan_discriminator(nn, batch_norm=True):
    """DCGAN discriminator on 1x28x28: Conv(1,64,4,2,1)-LeakyReLU(0.2) (14x14) ->
    Conv(64,128,4,2,1)-BN-LeakyReLU(0.2) (7x7) -> Flatten-Linear(128*7*7, 1), a logit. Without
    ``batch_norm`` (a WGAN-GP critic: the penalty is per sample, which BatchNorm would mix)."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=not batch_norm),
        *([nn.BatchNorm2d(128)] if batch_norm else []), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
    )


def _gan_setup(library: str, batch_norm: bool, seed: int = 6):
    """A generator and a discriminator (or critic) with DCGAN's N(0, 0.02) initialization made
    in glassgrad and copied into ``library``'s models, a batch of 64 "real" images in [-1, 1],
    and 64 latent codes: the same numbers in both libraries."""
    import glassgrad as gg

    gg.manual_seed(seed)

    def dcgan_init(m):
        if isinstance(m, (gg.nn.Conv2d, gg.nn.ConvTranspose2d, gg.nn.Linear)):
            gg.nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                gg.nn.init.zeros_(m.bias)
        elif isinstance(m, gg.nn.BatchNorm2d):
            gg.nn.init.normal_(m.weight, 1.0, 0.02)
            gg.nn.init.zeros_(m.bias)

    states = [{k: v.numpy() for k, v in build(gg.nn).apply(dcgan_init).state_dict().items()}
              for build in (_dcgan_generator, lambda nn: _dcgan_discriminator(nn, batch_norm))]
    rng = np.random.default_rng(seed)
    real_np = np.tanh(rng.standard_normal((64, 1, 28, 28))).astype(np.float32)
    z_np = rng.standard_normal((64, 100, 1, 1)).astype(np.float32)
    lib = gg if library == "glassgrad" else __import__("torch")
    models = [_dcgan_generator(lib.nn), _dcgan_discriminator(lib.nn, batch_norm)]
    for model, state in zip(models, states):
        model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return lib, *models, lib.tensor(real_np), lib.tensor(z_np)


def make_dcgan_step(library: str):
    """One DCGAN iteration: a D step (BCE-with-logits on real -> 1 and detached fake -> 0) and a
    G step (fake -> 1 through D), each with Adam(2e-4, betas (0.5, 0.999)); returns the sum of
    the two losses."""
    lib, gen, disc, real, z = _gan_setup(library, batch_norm=True)
    opt_g = lib.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = lib.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = lib.nn.BCEWithLogitsLoss()
    ones, zeros = lib.ones(64, 1), lib.zeros(64, 1)

    def step():
        opt_d.zero_grad()
        fake = gen(z)
        loss_d = bce(disc(real), ones) + bce(disc(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(disc(fake), ones)
        loss_g.backward()
        opt_g.step()
        return loss_d + loss_g

    return step


def make_wgan_gp_critic_step(library: str):
    """One WGAN-GP critic step: fakes from the generator (no grad), the critic on real and fake,
    and the gradient penalty 10 * (||grad_x critic(x_hat)|| - 1)^2 on random interpolates, whose
    backward is a double backward through the convolutions and LeakyReLUs; Adam(1e-4, betas
    (0.5, 0.9)). Returns the critic's loss."""
    lib, gen, critic, real, z = _gan_setup(library, batch_norm=False)
    opt = lib.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    alpha = lib.tensor(np.random.default_rng(7).random((64, 1, 1, 1), dtype=np.float32))

    def step():
        opt.zero_grad()
        with lib.no_grad():
            fake = gen(z)
        x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = lib.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((grad.reshape(64, -1).norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
        loss.backward()
        opt.step()
        return loss

    return step


WORKLOADS: dict[str, Workload] = {
    "cnn_mnist": Workload(
        "Conv(1,32,3)-ReLU-MaxPool2-Conv(32,64,3)-ReLU-MaxPool2 on 64x1x28x28: forward + backward",
        _make_cnn([(1, 32), (32, 64)], 64, (1, 28, 28), 0), 10),
    "cnn_blocks64": Workload(
        "3x [Conv3x3(pad 1)-ReLU-MaxPool2] 3->32->64->128 on 32x3x64x64: forward + backward",
        _make_cnn([(3, 32), (32, 64), (64, 128)], 32, (3, 64, 64), 1), 2),
    "cnn_mnist_adam": Workload(
        "nn: Conv(1,32,3)-ReLU-Pool-Conv(32,64,3)-ReLU-Pool-Linear(1600,10), 64x1x28x28: Adam training step",
        _make_model_train_step(_mnist_cnn, (1, 28, 28), ("classes", 10), 64, "cross_entropy", "adam", seed=3), 10),
    "cnn_bn_blocks_adam": Workload(
        "nn: 3x [Conv3x3-BatchNorm-ReLU-MaxPool2] 3->32->64->128 + Linear, 32x3x64x64: Adam training step",
        _make_model_train_step(_block_cnn, (3, 64, 64), ("classes", 11), 32, "cross_entropy", "adam", seed=3), 2),
    "mlp_fwd_bwd": Workload("MLP 784-256-256-10, batch 64: forward + cross-entropy + backward",
                            make_mlp_forward_backward, 50),
    "mlp_adam_step": Workload("MLP 784-256-256-10, batch 64: a full training step with Adam",
                              make_train_step_adam, 50),
    "mlp_sgd_step": Workload("MLP 784-256-256-10, batch 64: a full training step with SGD + momentum",
                             make_train_step_sgd, 50),
    "mlp512_adam": Workload(
        "nn: MLP 784-512-512-10 (ReLU), batch 128: a full training step with Adam",
        _make_model_train_step(_mlp512, (784,), ("classes", 10), 128, "cross_entropy", "adam"), 30),
    "lenet5_sgd": Workload(
        "nn: LeNet-5 (conv-pool-conv-pool-fc-fc-fc, ReLU, max pool), 64x1x28x28: SGD + momentum step",
        _make_model_train_step(_lenet5, (1, 28, 28), ("classes", 10), 64, "cross_entropy", "sgd"), 20),
    "net_1_128_1_adam": Workload(
        "nn: 1-128-1 ReLU net, batch 256, MSE: a full training step with Adam",
        _make_model_train_step(_net_1_128_1, (1,), ("values", 1), 256, "mse", "adam"), 200),
    "tiny_op": Workload("per-op overhead: a + b on 1-element tensors with grad (x100)", make_tiny_op, 20),
    "transformer_adam": Workload(
        "TransformerEncoder(Layer(128, 4, 512), 2) + mean + Linear(128, 10) on 32x64x128: Adam training step",
        _make_model_train_step(_transformer_classifier, (64, 128), ("classes", 10), 32, "cross_entropy", "adam"), 3),
    "mha_fwd_bwd": Workload("MultiheadAttention(128, 4) self-attention on 32x64x128: forward + backward",
                            make_mha_fwd_bwd, 5),
    "gru_adam": Workload(
        "nn: GRU(40, 128, batch_first=True) + Linear(128, 10) on 32x50x40: Adam training step",
        _make_model_train_step(_gru_classifier, (50, 40), ("classes", 10), 32, "cross_entropy", "adam"), 5),
    "dcgan_step": Workload(
        "DCGAN at MNIST scale, batch 64: G ConvT-BN-ReLU x2 + ConvT-Tanh, D Conv-LReLU-Conv-BN-LReLU-Linear; "
        "a D step and a G step, BCE-with-logits, Adam",
        make_dcgan_step, 3),
    "wgan_gp_step": Workload(
        "WGAN-GP critic step, batch 64, 1x28x28: G forward (no grad), critic Conv-LReLU-Conv-LReLU-Linear on "
        "real and fake, gradient penalty on interpolates (double backward), Adam",
        make_wgan_gp_critic_step, 3),
}
