"""Devices: ``glassgrad.device`` against ``torch.device``, ``glassgrad.cuda``, ``device=`` on the
factories and layers, and ``to`` / ``cuda`` / ``cpu`` on tensors and modules.

This machine has no GPU, so the GPU path is run on a stand-in for CuPy (``fake_gpu``) built on
NumPy: it checks glassgrad's side of the bargain (what is moved where, that gradients come back,
that modules move in place), not CuPy itself.
"""

import inspect
import pickle
import sys
import types

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad import _backend, nn

# -- glassgrad.device ---------------------------------------------------------------------------

SPECS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda:1",), ("cuda:12",), ("cuda", 0), ("cuda", 3), ("cpu:0",)]


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_device_like_torch(spec):
    d, t = gg.device(*spec), torch.device(*spec)
    assert (str(d), repr(d), d.type, d.index) == (str(t), repr(t), t.type, t.index)
    assert gg.device(d) == d and gg.device(str(d)) == d


def test_device_equality_like_torch_and_with_strings():
    for a in SPECS:
        for b in SPECS:
            assert (gg.device(*a) == gg.device(*b)) == (torch.device(*a) == torch.device(*b)), (a, b)
    # a device also equals its own string (PyTorch says False there)
    assert gg.device("cpu") == "cpu" and "cuda:1" == gg.device("cuda", 1)
    assert gg.device("cuda") != "cuda:0" and gg.device("cpu") != "cuda" and gg.device("cpu") != "gpu"
    assert gg.device("cpu") != 0 and gg.device("cpu") != gg.float32
    # equal things hash equally, so devices and their strings can be dict keys together
    assert {gg.device("cuda:1"): 1}["cuda:1"] == 1 and hash(gg.device("cuda", 2)) == hash(gg.device("cuda:2"))


def test_device_is_immutable_and_pickles():
    d = gg.device("cuda:1")
    with pytest.raises(AttributeError, match="cannot be changed"):
        d.index = 2
    assert pickle.loads(pickle.dumps(d)) == d and d.index == 1
    assert gg.device(1) == gg.device("cuda:1")  # an int is a GPU index, as in PyTorch


@pytest.mark.parametrize("bad", ["gpu", "GPU", "CUDA", "", " cpu", "cuda:", "cuda:-1", "cuda:x", "cuda:0:1", "cuda:01"])
def test_bad_device_string_says_what_is_accepted(bad):
    with pytest.raises(RuntimeError):
        torch.device(bad)
    with pytest.raises(RuntimeError, match=r"expected 'cpu', 'cuda' or 'cuda:<index>'.*got " + repr(bad)):
        gg.device(bad)


def test_devices_glassgrad_cannot_use_are_refused_with_a_reason():
    for name in ("mps", "xla:0", "meta"):
        torch.device(name)  # PyTorch knows them, glassgrad has no backend for them
        with pytest.raises(RuntimeError, match=r"got '.*' \(glassgrad runs on the CPU, or on NVIDIA GPUs through CuPy"):
            gg.device(name)


@pytest.mark.parametrize(
    "args, exc",
    [(("cuda", -1), RuntimeError), (("cuda:1", 0), RuntimeError), (("cpu", "0"), TypeError), ((1.5,), TypeError),
     ((None,), TypeError), (("cuda", 1.0), TypeError)],
    ids=repr,
)
def test_bad_device_arguments_like_torch(args, exc):
    with pytest.raises(exc):
        torch.device(*args)
    with pytest.raises(exc, match="device()"):
        gg.device(*args)


def test_tensor_device_is_a_device():
    x = gg.ones(2)
    assert isinstance(x.device, gg.device) and x.device == gg.device("cpu") and x.device == "cpu"
    assert str(x.device) == str(torch.ones(2).device) and not x.is_cuda and x.device.type == "cpu"
    assert "device" not in repr(x)


# -- glassgrad.cuda without a GPU --------------------------------------------------------------


def _fake_cupy(count):
    """A module named cupy whose driver reports ``count`` GPUs, or fails when ``count`` is an
    exception (as CuPy's does on a machine without an NVIDIA driver)."""

    def get_device_count():
        if isinstance(count, Exception):
            raise count
        return count

    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return cupy


NO_CUPY = "CUDA is not available: glassgrad runs on a GPU through CuPy, and CuPy is not installed"
NO_GPU = "CUDA is not available: CuPy is installed, but no GPU was found"


@pytest.fixture(params=["no cupy", "no driver", "no gpu"])
def no_cuda(request, monkeypatch):
    """Each way of not having a GPU; yields the message glassgrad should give."""
    if request.param == "no cupy":
        monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
        yield NO_CUPY
    else:
        monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(RuntimeError("no driver") if "driver" in request.param
                                                            else 0))
        yield NO_GPU


def test_cuda_is_not_available_without_cupy_or_gpu(no_cuda):
    assert gg.cuda.is_available() is False and gg.cuda.device_count() == 0
    assert _backend.cuda_unavailable_reason() == no_cuda
    for call in (gg.cuda.current_device, gg.cuda.synchronize):
        with pytest.raises(RuntimeError, match=no_cuda):
            call()


def test_cuda_is_available_with_cupy_and_a_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(2))
    assert gg.cuda.is_available() is True and gg.cuda.device_count() == 2
    assert _backend.cuda_unavailable_reason() is None


def test_the_usual_first_line_works(no_cuda):
    device = gg.device("cuda" if gg.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    assert model(gg.randn(4, 3, device=device)).device == device == "cpu"


def test_what_needs_a_gpu_says_so_in_one_sentence(no_cuda):
    x = gg.ones(2)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = [p._data for p in model.parameters()]
    calls = [lambda: x.to("cuda"), lambda: x.to("cuda:1", gg.float64), lambda: x.to(device=gg.device("cuda")),
             x.cuda, lambda: x.cuda(0), lambda: gg.zeros(2, device="cuda"), lambda: gg.tensor([1.0], device="cuda"),
             lambda: gg.randn(3, device=gg.device("cuda", 0)), lambda: gg.zeros_like(x, device="cuda"),
             lambda: nn.Linear(3, 2, device="cuda"), lambda: model.to("cuda"), model.cuda,
             lambda: model.to(device="cuda", dtype=gg.float64)]
    for call in calls:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == no_cuda
    # a model that could not move is left as it was
    assert all(p._data is a for p, a in zip(model.parameters(), before)) and model[0].weight.dtype == gg.float32


def test_cuda_methods_refuse_other_devices():
    with pytest.raises(RuntimeError, match="expected a CUDA device, got cpu"):
        gg.ones(2).cuda("cpu")
    with pytest.raises(RuntimeError, match="expected a CUDA device, got cpu"):
        nn.Linear(2, 2).cuda("cpu")


# -- device= on the factories ------------------------------------------------------------------

FACTORIES = {
    "tensor": ([1.0, 2.0],), "as_tensor": ([1.0, 2.0],), "zeros": (2, 3), "ones": (2, 3), "empty": (2, 3),
    "full": ((2, 3), 1.5), "eye": (3,), "arange": (1, 7, 2), "linspace": (0, 1, 5), "rand": (2, 3), "randn": (2, 3),
    "randint": (0, 5, (2, 3)), "randperm": (5,),
}
LIKE = {"zeros_like": (), "ones_like": (), "full_like": (7.0,), "rand_like": (), "randn_like": ()}


@pytest.mark.parametrize("name", [*FACTORIES, *LIKE])
def test_factories_take_device_like_torch(name):
    assert "device" in inspect.signature(getattr(gg, name)).parameters  # torch's accept it: called below
    if name in LIKE:
        x, xt = gg.ones(2, 3, dtype=gg.float64), torch.ones(2, 3, dtype=torch.float64)
        args, targs = (x, *LIKE[name]), (xt, *LIKE[name])
    else:
        args = targs = FACTORIES[name]
    for device in ("cpu", gg.device("cpu"), None):
        got = getattr(gg, name)(*args, device=device)
        ref = getattr(torch, name)(*targs, device=None if device is None else "cpu")
        assert got.device == gg.device("cpu") and str(got.device) == str(ref.device)
        assert got.shape == tuple(ref.shape) and got.dtype.name == str(ref.dtype).split(".")[-1]
        if name not in ("empty", "rand", "randn", "randint", "randperm", "rand_like", "randn_like"):
            np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="expected 'cpu', 'cuda'"):
        getattr(gg, name)(*args, device="gpu")


# -- Tensor.to / cpu / copy on the CPU -------------------------------------------------------------


def test_tensor_to_forms_like_torch():
    x, xt = gg.tensor([1.5, -2.0]), torch.tensor([1.5, -2.0])
    forms = [((gg.float64,), (torch.float64,), {}), (("cpu",), ("cpu",), {}),
             (("cpu", gg.float64), ("cpu", torch.float64), {}), ((gg.device("cpu"), gg.int64), (torch.device("cpu"),
             torch.int64), {}), ((), (), {"device": "cpu", "dtype": gg.float64}), ((), (), {"dtype": gg.int32}),
             ((gg.tensor([1], dtype=gg.int64),), (torch.tensor([1]),), {}), ((gg.float32, False, True), (torch.float32,
             False, True), {}), (("cpu",), ("cpu",), {"non_blocking": True, "copy": True})]
    for args, targs, kwargs in forms:
        tkwargs = {k: {gg.float64: torch.float64, gg.int32: torch.int32}.get(v, v) for k, v in kwargs.items()}
        got, ref = x.to(*args, **kwargs), xt.to(*targs, **tkwargs)
        assert got.dtype.name == str(ref.dtype).split(".")[-1] and got.tolist() == ref.tolist(), args
        assert (got is x) == (ref is xt), args
    y = x.to("cpu", copy=True)
    y[0] = 9.0
    assert x[0].item() == 1.5 and x.cpu() is x
    assert x.to("float64").dtype == gg.float64  # glassgrad also takes a dtype's name


@pytest.mark.parametrize("bad", [5.0, [1], object()], ids=repr)
def test_tensor_to_refuses_what_is_neither_device_nor_dtype(bad):
    with pytest.raises(TypeError, match="expected a device .*, a dtype or a tensor"):
        gg.ones(2).to(bad)
    with pytest.raises(TypeError, match=r"expected a dtype \(e\.g\. glassgrad\.float64\), got (5\.0|list|object)"):
        gg.ones(2).to("cpu", bad)
    with pytest.raises(TypeError, match="unexpected keyword"):
        gg.ones(2).to(devise="cpu")
    with pytest.raises(TypeError, match="too many arguments"):
        gg.ones(2).to("cpu", gg.float64, False, False, False)
    assert gg.ones(2).to(None).dtype == gg.float32


def test_copy_to_keeps_the_gradient():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", gg.float64, copy=True)
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0] and x.grad.dtype == gg.float32


# -- layers: device= and dtype= as PyTorch, Module.to / cpu ---------------------------------------

LAYERS = [
    ("Linear", (3, 4)), ("Conv2d", (2, 3, 3)), ("ConvTranspose2d", (2, 3, 3)), ("BatchNorm1d", (3,)),
    ("BatchNorm2d", (3,)), ("LayerNorm", ((2, 3),)), ("Embedding", (5, 4)),
]


@pytest.mark.parametrize("name, args", LAYERS, ids=[n for n, _ in LAYERS])
def test_layers_take_device_and_dtype_like_torch(name, args):
    t = getattr(torch.nn, name)(*args, device="cpu", dtype=torch.float64)
    g = getattr(nn, name)(*args, device="cpu", dtype=gg.float64)
    got = {k: (tuple(v.shape), v.dtype.name, str(v.device)) for k, v in g.state_dict().items()}
    ref = {k: (tuple(v.shape), str(v.dtype).split(".")[-1], str(v.device)) for k, v in t.state_dict().items()}
    assert got == ref
    with pytest.raises(RuntimeError, match="expected 'cpu', 'cuda'"):
        getattr(nn, name)(*args, device="gpu")


def test_module_to_and_cpu_on_the_cpu():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    w = model[0].weight
    assert model.to("cpu") is model and model.cpu() is model and model[0].weight is w
    assert model.to(gg.device("cpu"), gg.float64) is model and w.dtype == gg.float64
    assert model.to(gg.zeros(1, dtype=gg.float32)) is model and w.dtype == gg.float32
    assert model[1].num_batches_tracked.dtype == gg.int64
    with pytest.raises(TypeError, match="floating point"):
        model.to("cpu", gg.int64)


# -- the GPU path, on a stand-in for CuPy ------------------------------------------------------


class _FakeGpuArray(np.ndarray):
    """NumPy memory that says it lives on GPU ``device.id``; ``get()`` brings it to the CPU."""

    def __array_finalize__(self, obj):
        self._gpu = getattr(obj, "_gpu", _FakeDevice.current)

    @property
    def device(self):
        return _FakeDevice(self._gpu)

    def get(self):
        return np.array(self)

    def copy(self):  # as CuPy's: the copy is made on the current GPU
        return np.array(self).view(_FakeGpuArray)


class _FakeDevice:
    current = 0

    def __init__(self, index=None):
        self.id = _FakeDevice.current if index is None else index

    def __enter__(self):
        self._before, _FakeDevice.current = _FakeDevice.current, self.id
        return self

    def __exit__(self, *exc):
        _FakeDevice.current = self._before

    def synchronize(self):
        pass


def _on_fake_gpu(make):
    return lambda *args, **kwargs: make(*args, **kwargs).view(_FakeGpuArray)


@pytest.fixture
def fake_gpu(monkeypatch):
    """Two "GPUs" whose arrays are NumPy arrays of type _FakeGpuArray (NumPy's functions work on
    them, so the ops run unchanged)."""
    cupy = types.ModuleType("cupy")
    cupy.ndarray = _FakeGpuArray
    cupy.asarray = lambda a, dtype=None: np.array(a, dtype=dtype).view(_FakeGpuArray)
    cupy.cuda = types.SimpleNamespace(Device=_FakeDevice, runtime=types.SimpleNamespace(getDeviceCount=lambda: 2))
    for name in ("zeros", "ones", "empty", "full", "arange", "linspace", "eye"):  # factories make GPU arrays
        setattr(cupy, name, _on_fake_gpu(getattr(np, name)))
    cupy.__getattr__ = lambda name: getattr(np, name)  # the rest of NumPy's namespace
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_FakeDevice, "current", 0)
    return cupy


def test_to_cuda_moves_and_back(fake_gpu):
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.to("cuda")
    assert type(y._data) is _FakeGpuArray and y.device == gg.device("cuda", 0) and y.is_cuda
    assert y.tolist() == x.tolist() and y.to("cuda") is y and y.cuda() is y and y.to("cuda:0") is y
    z = y.to("cuda:1")
    assert z.device == "cuda:1" and z._data.device.id == 1 and z.tolist() == x.tolist()
    back = z.cpu()
    assert type(back._data) is np.ndarray and back.device == "cpu" and back.tolist() == x.tolist()
    assert repr(y) == "tensor([[1., 2.],\n        [3., 4.]], device='cuda:0')"
    with pytest.raises(TypeError, match=r"cuda:0 tensor to NumPy.*\.cpu\(\)"):
        y.numpy()
    assert x.cuda(1).device == "cuda:1" and gg.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="CUDA device 2 was asked for, but only 2 GPU"):
        x.to("cuda:2")


def test_gradients_come_back_across_devices(fake_gpu):
    x = gg.tensor([1.0, -2.0, 3.0], dtype=gg.float64, requires_grad=True)
    y = x.to("cuda:1")
    assert y.grad_fn.name() == "ToDeviceBackward" and y.requires_grad
    (g,) = gg.autograd.grad((y**3).sum(), x, create_graph=True)
    assert g.device == "cpu" and g.tolist() == [3.0, 12.0, 27.0]
    g.sum().backward()  # second order goes back through the move as well
    assert x.grad.device == "cpu" and x.grad.tolist() == [6.0, -12.0, 18.0]
    x.grad = None
    y = x.to("cuda:1") * 2
    y.backward([1.0, 0.0, 2.0])  # a gradient given as a list is made on the output's device
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 0.0, 4.0]


def test_random_factories_draw_the_same_numbers_on_every_device(fake_gpu):
    for make in (lambda d: gg.randn(4, device=d), lambda d: gg.rand(2, 2, device=d), lambda d: gg.randperm(6, device=d),
                 lambda d: gg.randint(0, 9, (5,), device=d), lambda d: gg.bernoulli(gg.full((5,), 0.5, device=d))):
        gg.manual_seed(3)
        a = make("cpu")
        gg.manual_seed(3)
        b = make("cuda:1")
        assert b.device == "cuda:1" and b.cpu().equal(a)


def test_factories_and_layers_on_the_gpu(fake_gpu):
    for t in (gg.zeros(2, device="cuda"), gg.randn(3, device="cuda:1"), gg.arange(3, device=gg.device("cuda", 1)),
              gg.tensor([1, 2], device="cuda"), gg.as_tensor(np.ones(2), device="cuda")):
        assert type(t._data) is _FakeGpuArray and t.device.type == "cuda"
    x = gg.ones(2, device="cuda:1")
    assert gg.zeros_like(x).device == "cuda:1" and gg.randn_like(x).device == "cuda:1"
    assert gg.ones_like(x, device="cpu").device == "cpu"
    gg.manual_seed(5)
    a = nn.Linear(3, 2, device="cuda:1")
    gg.manual_seed(5)
    b = nn.Linear(3, 2)
    assert a.weight.device == "cuda:1" and a.weight.cpu().equal(b.weight)  # same numbers on every device
    bn = nn.BatchNorm1d(2, device="cuda")
    assert {str(t.device) for t in bn.state_dict().values()} == {"cuda:0"}


def test_module_moves_in_place(fake_gpu):
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(model.parameters())
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    model(gg.randn(4, 3)).sum().backward()
    assert model.cuda() is model and list(model.parameters()) == params
    for t in [*model.parameters(), *model.buffers(), *(p.grad for p in params)]:
        assert t.device == "cuda:0" and type(t._data) is _FakeGpuArray
    model.to("cuda:1", gg.float64)
    assert model[0].weight.device == "cuda:1" and model[0].weight.dtype == gg.float64
    assert model[1].num_batches_tracked.dtype == gg.int64 and model[1].num_batches_tracked.device == "cuda:1"
    optimizer.step()  # the optimizer holds the same Parameter objects, now on the GPU
    assert model[0].weight.device == "cuda:1"
    out = model(gg.randn(4, 3, device="cuda:1", dtype=gg.float64))
    assert out.device == "cuda:1"
    model.cpu()
    assert all(type(t._data) is np.ndarray for t in [*model.parameters(), *model.buffers()])


def test_cuda_manual_seed_leaves_the_one_generator_alone():
    gg.manual_seed(1)
    a = gg.randn(3)
    gg.manual_seed(1)
    gg.cuda.manual_seed(7)
    gg.cuda.manual_seed_all(8)
    assert gg.randn(3).equal(a)
