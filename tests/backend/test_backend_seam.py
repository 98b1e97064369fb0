"""The backend seam: every array of a training step comes from the tensor's array module.

The "device" here is ``standin.py``, a CuPy look-alike built on NumPy whose arrays refuse to mix
with NumPy arrays (as CuPy's do). An MLP, a CNN, a Transformer, a GAN and a packed GRU/LSTM each
take optimizer steps on it, and must (1) not raise, which proves no NumPy array leaked into the
step, (2) keep every parameter, gradient and optimizer buffer on the device, and (3) give the
numbers the same step gives on the CPU.
"""

import copy

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad import _backend, nn
from glassgrad.autograd.function import Function
from tests.backend import standin


@pytest.fixture(params=["stand-in", "cupy"])
def gpu(request, monkeypatch):
    """The stand-in installed as glassgrad's CUDA module (one "GPU"); and real CuPy, where a GPU
    is (the same tests then check CuPy's numerics against NumPy's)."""
    if request.param == "cupy":
        reason = _backend.cuda_unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
        monkeypatch.setattr(_backend, "_cupy", _backend._cupy)  # restored afterwards
        monkeypatch.setattr(_backend, "_cupy_special", _backend._cupy_special)
        _backend.enable_cupy()
        return _backend._cupy
    module = standin.make(gpus=1)
    monkeypatch.setattr(_backend, "_cupy", module)
    monkeypatch.setattr(_backend, "_cupy_special", module.special)
    return module


def _strict(gpu):
    if gpu.__name__ != "standin_cupy":
        pytest.skip("checks the stand-in itself")


# -- the stand-in is strict (so the model tests below can fail) ---------------------------------


def test_the_stand_in_refuses_every_implicit_mix_with_numpy(gpu):
    _strict(gpu)
    dev, host = gpu.arange(4.0), np.ones(4)
    refused = [
        lambda: np.asarray(dev), lambda: np.exp(dev), lambda: dev + host, lambda: host + dev, lambda: host * dev,
        lambda: dev[np.array([0, 1])], lambda: dev.__setitem__(slice(None), host),
        lambda: gpu.concatenate([dev, host]), lambda: gpu.where(dev > 1, dev, host), lambda: np.copyto(host, dev),
    ]
    for i, call in enumerate(refused):
        with pytest.raises(TypeError):
            call()
            pytest.fail(f"case {i} mixed a NumPy array with a device array")
    # what CuPy allows: Python and NumPy scalars, explicit uploads and downloads, 0-d results
    assert isinstance(dev * 2 + np.float32(1), standin.ndarray)
    assert isinstance(dev.sum(), standin.ndarray) and float(dev.sum()) == 6.0
    np.testing.assert_array_equal((gpu.asarray(host) + dev).get(), [1, 2, 3, 4])


def test_a_leaking_op_is_caught(gpu):
    _strict(gpu)
    class LeakyAdd(Function):  # adds an array made with NumPy: fine on the CPU, wrong on a GPU
        def forward(self, x):
            return x + np.ones(x.shape, x.dtype)

        def backward(self, gy):
            return gy

    x = gg.ones(3)
    assert LeakyAdd()(x).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="NumPy array met the device"):
        LeakyAdd()(x.to("cuda"))


# -- models: a step on the device equals the step on the CPU, and everything stays there ---------


def _device_tensors(model, optimizers):
    tensors = [*model.parameters(), *model.buffers()]
    tensors += [p.grad for p in model.parameters() if p.grad is not None]
    for opt in optimizers:  # the step counters stay on the CPU, as PyTorch's
        tensors += [v for state in opt.state.values() for k, v in state.items() if isinstance(v, gg.Tensor)
                    and k != "step"]
    return tensors


def _run_on_both(gpu, build, step):
    """``step(model, optimizers, device)`` from one initialization and one seed, on the CPU and on
    the stand-in; the losses and the trained parameters must agree, and all state must be on the device."""
    gg.manual_seed(0)
    model, make_optimizers = build()
    twin = copy.deepcopy(model).to("cuda")
    results = {}
    for device, m in (("cpu", model), ("cuda", twin)):
        optimizers = make_optimizers(m)
        gg.manual_seed(1)  # the same data and dropout masks on both devices
        losses = step(m, optimizers, device)
        results[device] = (losses, m, optimizers)
    (cpu_losses, cpu_model, _), (dev_losses, dev_model, dev_opts) = results["cpu"], results["cuda"]
    for t in _device_tensors(dev_model, dev_opts):
        assert isinstance(t._data, gpu.ndarray) and t.device.type == "cuda", tuple(t.shape)
    assert all(isinstance(v._data, gpu.ndarray) for v in dev_losses)
    # the stand-in computes with NumPy: the same numbers; a real GPU rounds differently (cuBLAS, cuDNN)
    rtol, atol = (1e-6, 1e-7) if gpu.__name__ == "standin_cupy" else (1e-4, 1e-5)
    np.testing.assert_allclose([v.item() for v in dev_losses], [v.item() for v in cpu_losses], rtol=rtol)
    for (name, p), q in zip(cpu_model.named_parameters(), dev_model.parameters()):
        np.testing.assert_allclose(q.detach().cpu().numpy(), p.detach().numpy(), rtol=rtol, atol=atol, err_msg=name)


def test_mlp_step(gpu):
    def build():
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        return model, lambda m: [gg.optim.Adam(m.parameters(), lr=1e-2)]

    def step(model, optimizers, device):
        x, y = gg.randn(8, 6, device=device), gg.randint(0, 3, (8,), device=device)
        losses = []
        for _ in range(2):
            loss = F.cross_entropy(model(x), y)
            optimizers[0].zero_grad()
            loss.backward()
            optimizers[0].step()
            losses.append(loss)
        return losses

    _run_on_both(gpu, build, step)


def test_cnn_step(gpu):
    def build():
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout2d(0.2),
            nn.Conv2d(4, 8, 3), nn.AvgPool2d(2), nn.Upsample(scale_factor=2, mode="bilinear"),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3),
        )
        return model, lambda m: [gg.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)]

    def step(model, optimizers, device):
        x, y = gg.randn(4, 1, 10, 10, device=device), gg.randint(0, 3, (4,), device=device)
        losses = []
        for _ in range(2):
            loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), y)
            optimizers[0].zero_grad()
            loss.backward()
            optimizers[0].step()
            losses.append(loss)
        model.eval()
        with gg.no_grad():
            losses.append(F.mse_loss(model(x), gg.zeros(4, 3, device=device)))
        model.train()
        return losses

    _run_on_both(gpu, build, step)


def test_transformer_step(gpu):
    def build():
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, activation="gelu", batch_first=True)
        model = nn.ModuleDict({
            "emb": nn.Embedding(11, 8, padding_idx=0),
            "pos": nn.SinusoidalPositionalEncoding(8, dropout=0.1, batch_first=True),
            "enc": nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8)),
            "head": nn.Linear(8, 11),
        })
        return model, lambda m: [gg.optim.AdamW(m.parameters(), lr=1e-3)]

    def step(model, optimizers, device):
        tokens = gg.randint(1, 11, (2, 5), device=device)
        tokens[1, 3:] = 0  # padding
        mask = nn.Transformer.generate_square_subsequent_mask(5, device=device)
        h = model["enc"](model["pos"](model["emb"](tokens)), mask=mask, src_key_padding_mask=tokens == 0)
        loss = F.cross_entropy(model["head"](h).reshape(-1, 11), tokens.reshape(-1), ignore_index=0)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizers[0].step()
        scheduler = gg.optim.lr_scheduler.StepLR(optimizers[0], 1, gamma=0.5)
        scheduler.step()
        return [loss, norm]

    _run_on_both(gpu, build, step)


def test_gan_step(gpu):
    def build():
        g = nn.Sequential(nn.Linear(4, 32), nn.BatchNorm1d(32), nn.LeakyReLU(0.2), nn.Unflatten(1, (2, 4, 4)),
                          nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1), nn.Tanh())
        d = nn.Sequential(nn.Conv2d(1, 2, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                          nn.Linear(32, 1))
        model = nn.ModuleDict({"g": g, "d": d})

        def optimizers(m):
            return [gg.optim.Adam(m["g"].parameters(), lr=2e-4, betas=(0.5, 0.999)),
                    gg.optim.Adam(m["d"].parameters(), lr=2e-4, betas=(0.5, 0.999))]

        return model, optimizers

    def step(model, optimizers, device):
        g, d = model["g"], model["d"]
        opt_g, opt_d = optimizers
        bce = nn.BCEWithLogitsLoss()
        real = gg.rand(3, 1, 8, 8, device=device) * 2 - 1
        fake = g(gg.randn(3, 4, device=device))
        loss_d = bce(d(real), gg.ones(3, 1, device=device)) + bce(d(fake.detach()), gg.zeros(3, 1, device=device))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        out = d(fake)
        loss_g = bce(out, gg.ones_like(out))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return [loss_d, loss_g]

    _run_on_both(gpu, build, step)


def test_packed_recurrent_step(gpu):
    def build():
        model = nn.ModuleDict({"gru": nn.GRU(3, 4, batch_first=True), "lstm": nn.LSTM(4, 4, num_layers=2)})
        return model, lambda m: [gg.optim.RMSprop(m.parameters(), lr=1e-2)]

    def step(model, optimizers, device):
        seqs = [gg.randn(n, 3, device=device) for n in (4, 2, 3)]
        padded = nn.utils.rnn.pad_sequence(seqs, batch_first=True)
        packed = nn.utils.rnn.pack_padded_sequence(padded, [4, 2, 3], batch_first=True, enforce_sorted=False)
        out, h = model["gru"](packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        z, _ = model["lstm"](y.transpose(0, 1))
        loss = z.pow(2).mean() + h.abs().sum()
        loss.backward()
        optimizers[0].step()
        return [loss]

    _run_on_both(gpu, build, step)


def test_second_order_gradients_stay_on_the_device(gpu):
    w = gg.randn(5, device="cuda", requires_grad=True)
    (g,) = gg.autograd.grad((F.gelu(w) ** 3).sum(), w, create_graph=True)
    g.sum().backward()
    assert isinstance(w.grad._data, gpu.ndarray)


# -- factories, scalars and tensor methods ---------------------------------------------------------


def test_factories_make_arrays_on_the_device_and_random_draws_are_copied_once(gpu):
    _strict(gpu)
    x = gg.ones(2, 3, device="cuda")
    before = standin.uploads()
    made = [gg.zeros(4, device="cuda"), gg.empty(2, device="cuda"), gg.full((2,), 3.0, device="cuda"),
            gg.arange(5, device="cuda"), gg.linspace(0, 1, 3, device="cuda"), gg.eye(3, device="cuda"),
            gg.zeros_like(x), gg.ones_like(x), gg.full_like(x, 2)]
    assert standin.uploads() == before  # made by the device's module: nothing came from the host
    assert all(isinstance(t._data, gpu.ndarray) for t in made)
    gg.randn(3, device="cuda")
    assert standin.uploads() == before + 1  # drawn by the one generator on the host, then copied


def test_tensor_methods_and_python_numbers_stay_on_the_device(gpu):
    t = gg.randn(3, 4, device="cuda")
    t.clamp_(-0.5, 0.5)
    t.masked_fill_(t > 0.4, 0.0)
    t += 1
    t *= 2.5
    t.add_(t, alpha=2)
    t.div_(3)
    t.normal_()
    t.copy_(gg.ones(3, 4, device="cuda"))
    t[0] = 2.0
    t[t > 1.5] = 0.5
    results = [t == 1, t != 1, t < 1, (t > 0) & (t < 1), ~(t > 0), t.isnan(), t.isfinite(), t.all(), t.any(),
               2 ** t, 1 - t, t / 2, gg.where(t > 0.7, t, 1.0), gg.where([[True] * 4] * 3, t, 0.0), t.logical_not()]
    assert all(isinstance(r._data, gpu.ndarray) for r in results)
    assert t.allclose(t.clone()) and t.equal(t.clone())
    assert "device='cuda:0'" in repr(t)


def test_a_device_models_checkpoint_saves_and_loads(gpu, tmp_path):
    model = nn.Linear(3, 2).to("cuda")
    optimizer = gg.optim.Adam(model.parameters())
    model(gg.randn(4, 3, device="cuda")).sum().backward()
    optimizer.step()
    gg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt")
    loaded = gg.load(tmp_path / "ckpt")  # onto the CPU
    np.testing.assert_array_equal(loaded["model"]["weight"].numpy(), model.weight.detach().cpu().numpy())
    model.load_state_dict(loaded["model"])  # and back onto the device
    optimizer.load_state_dict(loaded["optimizer"])  # its buffers follow their parameters' device
    model(gg.randn(4, 3, device="cuda")).sum().backward()
    optimizer.step()
    assert isinstance(model.weight._data, gpu.ndarray)
    assert all(isinstance(t._data, gpu.ndarray) for t in _device_tensors(model, [optimizer]))


def test_cuda_routes_tensors_and_modules_to_the_device_module(gpu):
    x = gg.tensor([1.0, 2.0]).to("cuda")
    assert isinstance(x._data, gpu.ndarray) and x.is_cuda and x.device == gg.device("cuda", 0)
    model = nn.Linear(2, 3).to(gg.device("cuda"))
    assert all(isinstance(p._data, gpu.ndarray) for p in model.parameters())
    y = model(x)
    assert isinstance(y._data, gpu.ndarray)
    back = y.cpu()
    assert type(back._data) is np.ndarray and model.cpu().weight.device == "cpu"
    np.testing.assert_allclose(back.detach().numpy(), model(gg.tensor([1.0, 2.0])).detach().numpy(), rtol=1e-5)


def test_without_a_gpu_cuda_is_one_clear_error():
    """On this machine as it is (no stand-in): where CuPy or a GPU is missing, every way of asking
    for CUDA gives the same one-sentence reason."""
    reason = _backend.cuda_unavailable_reason()
    if reason is None:
        pytest.skip("a GPU is available here")
    assert not gg.cuda.is_available()
    x, model = gg.ones(2), nn.Linear(2, 2)
    for call in (lambda: x.to("cuda"), x.cuda, lambda: gg.zeros(2, device="cuda"), lambda: model.to("cuda"),
                 lambda: gg.device("cuda") and x.to(gg.device("cuda:0"))):
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == reason
