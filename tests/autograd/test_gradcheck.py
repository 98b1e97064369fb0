"""gradcheck and gradgradcheck pass on every differentiable op, and fail on an op whose first or
second derivative is wrong."""

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import Function, gradcheck, gradgradcheck
from glassgrad.autograd.gradcheck import GradcheckError
from glassgrad.functions._operands import constant

F = gg.nn.functional
rng = np.random.default_rng(0)


def _x(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape)


def _away(*shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _pos(*shape):
    return rng.uniform(0.3, 2.0, shape)


MASK = rng.random((2, 3)) < 0.5
INDEX = gg.tensor(rng.integers(0, 3, (2, 4)))
TARGET = gg.tensor([0, 2])

# name -> (fn, inputs); every op of the engine with a gradient
OPS = {
    "add": (lambda a, b: a + b, [_x(2, 3), _x(3)]),
    "sub": (lambda a, b: gg.sub(a, b, alpha=2.0), [_x(2, 3), _x(2, 1)]),
    "mul": (lambda a, b: a * b, [_x(2, 3), _x(3)]),
    "div": (lambda a, b: a / b, [_x(2, 3), _away(3)]),
    "neg": (lambda a: -a, [_x(2, 3)]),
    "pow": (lambda a, b: a**b, [_pos(2, 3), _x(3)]),
    "pow_scalar": (lambda a: a**2.5, [_pos(2, 3)]),
    "rpow": (lambda a: 1.7**a, [_x(2, 3)]),
    "exp": (gg.exp, [_x(2, 3)]),
    "log": (gg.log, [_pos(2, 3)]),
    "sqrt": (gg.sqrt, [_pos(2, 3)]),
    "abs": (gg.abs, [_away(2, 3)]),
    "sin": (gg.sin, [_x(2, 3)]),
    "cos": (gg.cos, [_x(2, 3)]),
    "erf": (gg.erf, [_x(2, 3)]),
    "tanh": (gg.tanh, [_x(2, 3)]),
    "sigmoid": (gg.sigmoid, [_x(2, 3)]),
    "relu": (lambda a: gg.relu(a) * a, [_away(2, 3)]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1) * a, [_away(2, 3)]),
    "gelu": (F.gelu, [_x(2, 3)]),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), [_x(2, 3)]),
    "softplus": (lambda a: F.softplus(a, beta=1.5), [_x(2, 3)]),
    "clamp": (lambda a: gg.clamp(a, -1.0, 1.0) * a, [_x(2, 3)]),
    "clamp_tensor": (lambda a, lo: gg.clamp(a, min=lo) * a, [_x(2, 3), _x(3)]),
    "maximum": (lambda a, b: gg.maximum(a, b) * a, [_x(2, 3), _x(3)]),
    "minimum": (lambda a, b: gg.minimum(a, b) * b, [_x(2, 3), _x(2, 3)]),
    "where": (lambda a, b: gg.where(gg.tensor(MASK), a * a, b), [_x(2, 3), _x(3)]),
    "matmul": (lambda a, b: (a * a) @ b, [_x(2, 3), _x(3, 2)]),
    "matmul_batched": (lambda a, b: a @ (b * b), [_x(2, 1, 2, 3), _x(2, 3, 2)]),
    "matmul_vec": (lambda a, b: (a * a) @ b, [_x(3), _x(2, 3, 2)]),
    "linear": (lambda x, w, b: F.linear(x * x, w, b), [_x(2, 3), _x(4, 3), _x(4)]),
    "sum": (lambda a: (a * a).sum(1), [_x(2, 3)]),
    "mean": (lambda a: (a * a).mean((0, 1), keepdim=True), [_x(2, 3)]),
    "max": (lambda a: gg.max(a * a), [_x(2, 3)]),
    "max_dim": (lambda a: gg.max(a * a, 1).values, [_x(2, 3)]),
    "min_dim": (lambda a: gg.min(a * a, 0, keepdim=True).values, [_x(2, 3)]),
    "amax": (lambda a: gg.amax(a * a, 0), [_x(2, 3)]),
    "amin": (lambda a: gg.amin(a * a, -1), [_x(2, 3)]),
    "var": (lambda a: gg.var(a, 1), [_x(2, 3)]),
    "std": (lambda a: gg.std(a, 0, correction=0), [_x(2, 3)]),
    "logsumexp": (lambda a: gg.logsumexp(a, 1), [_x(2, 3)]),
    "softmax": (lambda a: gg.softmax(a, 1), [_x(2, 3)]),
    "log_softmax": (lambda a: gg.log_softmax(a, 0), [_x(2, 3)]),
    "reshape": (lambda a: (a * a).reshape(3, 2), [_x(2, 3)]),
    "flatten": (lambda a: (a * a).flatten(), [_x(2, 1, 3)]),
    "permute": (lambda a: (a * a).permute(2, 0, 1), [_x(2, 1, 3)]),
    "transpose": (lambda a: (a * a).transpose(0, 1), [_x(2, 3)]),
    "squeeze": (lambda a: (a * a).squeeze(1), [_x(2, 1, 3)]),
    "unsqueeze": (lambda a: (a * a).unsqueeze(0), [_x(2, 3)]),
    "expand": (lambda a: (a * a).expand(2, 2, 3), [_x(1, 3)]),
    "cat": (lambda a, b: gg.cat([a * a, b], 1), [_x(2, 3), _x(2, 2)]),
    "stack": (lambda a, b: gg.stack([a * a, b], 0), [_x(2, 3), _x(2, 3)]),
    "split": (lambda a: (a * a).split([1, 2], 1), [_x(2, 3)]),
    "chunk": (lambda a: (a * a).chunk(2, 1), [_x(2, 3)]),
    "gather": (lambda a: gg.gather(a * a, 1, INDEX), [_x(2, 3)]),
    "masked_fill": (lambda a: (a * a).masked_fill(gg.tensor(MASK), 2.0), [_x(2, 3)]),
    "pad": (lambda a: F.pad(a * a, (1, 2, 0, 1), value=0.5), [_x(2, 3)]),
    "index": (lambda a: (a * a)[gg.tensor([1, 0, 1])], [_x(2, 3)]),
    "index_mask": (lambda a: (a * a)[gg.tensor(MASK)], [_x(2, 3)]),
    "index_slice": (lambda a: (a * a)[:, 1:], [_x(2, 3)]),
    "nll_loss": (lambda a: F.nll_loss(gg.log_softmax(a, 1), TARGET), [_x(2, 3)]),
    "cross_entropy": (lambda a: F.cross_entropy(a, TARGET, weight=gg.tensor([1.0, 2.0, 0.5]),
                                                reduction="sum"), [_x(2, 3)]),
}


def _inputs(arrays):
    return [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", OPS)
def test_gradcheck_and_gradgradcheck_pass(name):
    fn, arrays = OPS[name]
    assert gradcheck(fn, _inputs(arrays))
    assert gradgradcheck(fn, _inputs(arrays))


def test_gradcheck_through_float32_cast():
    # float32 rounding hides a perturbation of 1e-6: difference over a wider step instead
    def fn(a):
        return (a.float() * 2.0).double() * a

    tol = {"eps": 1e-2, "atol": 1e-3, "rtol": 1e-3}
    assert gradcheck(fn, _inputs([_x(2, 3)]), **tol)
    assert gradgradcheck(fn, _inputs([_x(2, 3)]), **tol)


class WrongFirstDerivative(Function):
    """x^2 with the derivative 3x."""

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * 3.0


class WrongSecondDerivative(Function):
    """x^3 whose backward is right, 3x^2, but computed from a constant: no second derivative."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        return gy * constant(3.0 * self.inputs[0]._data ** 2)


def test_gradcheck_catches_a_wrong_gradient():
    x = _inputs([_x(2, 3)])
    with pytest.raises(GradcheckError, match="output 0 with respect to input 0"):
        gradcheck(lambda t: WrongFirstDerivative()(t), x)
    assert not gradcheck(lambda t: WrongFirstDerivative()(t), x, raise_exception=False)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = _inputs([_away(2, 3)])
    assert gradcheck(lambda t: WrongSecondDerivative()(t), x)  # first order is right
    with pytest.raises(GradcheckError, match="does not match finite differences"):
        gradgradcheck(lambda t: WrongSecondDerivative()(t), x)
    assert not gradgradcheck(lambda t: WrongSecondDerivative()(t), x, raise_exception=False)


def test_gradcheck_catches_a_wrong_gradient_of_one_input_among_several():
    class WrongB(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            a, b = self.inputs
            return gy * b, gy * a * 1.01

    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongB()(a, b), _inputs([_x(3), _x(3)]))


def test_gradcheck_needs_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(gg.exp, [gg.ones(2, requires_grad=True)])


def test_gradcheck_on_non_contiguous_input():
    x = gg.tensor(_x(3, 2), dtype=gg.float64).T.detach().requires_grad_()
    assert gradcheck(lambda t: (t * t).sum(0), [x])
