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
}
