"""no_grad, enable_grad, set_grad_enabled and inference_mode, as context managers and as
decorators, like PyTorch's."""

import pytest
import torch

import glassgrad as gg


def _x():
    return gg.ones(2, requires_grad=True)


def test_no_grad_context():
    x = _x()
    with gg.no_grad():
        assert not gg.is_grad_enabled()
        y = x * 2
    assert gg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = _x()
    with gg.no_grad():
        with gg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_no_grad_and_enable_grad_as_decorators():
    x = _x()

    @gg.no_grad()
    def f(t):
        return t * 2

    @gg.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad and gg.is_grad_enabled()
    with gg.no_grad():
        assert g(x).requires_grad
        assert not gg.is_grad_enabled()
    assert f.__name__ == "f"


def test_no_grad_bare_decorator_like_torch():
    @torch.no_grad
    def tf(t):
        return t * 2

    @gg.no_grad
    def f(t):
        return t * 2

    assert not tf(torch.ones(1, requires_grad=True)).requires_grad
    assert not f(_x()).requires_grad and gg.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context():
    x = _x()
    gg.set_grad_enabled(False)
    try:
        assert not gg.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        gg.set_grad_enabled(True)
    assert gg.is_grad_enabled()
    with gg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gg.is_grad_enabled()
    with gg.no_grad():
        with gg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not gg.is_grad_enabled()


def test_set_grad_enabled_as_decorator():
    x = _x()

    @gg.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert gg.is_grad_enabled()  # decorating does not change the mode
    assert not f(x).requires_grad
    assert gg.is_grad_enabled()


def test_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with gg.no_grad():
            raise ValueError
    assert gg.is_grad_enabled()

    @gg.no_grad()
    def boom():
        raise ValueError

    with pytest.raises(ValueError):
        boom()
    assert gg.is_grad_enabled()


def test_inference_mode():
    x = _x()
    with gg.inference_mode():
        assert not (x * 2).requires_grad
    with gg.inference_mode(False):
        assert (x * 2).requires_grad
    assert gg.is_grad_enabled()

    @gg.inference_mode()
    def f(t):
        return t * 2

    @gg.inference_mode(False)
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with gg.no_grad():
        assert g(x).requires_grad


def test_backward_does_not_leave_grad_mode_changed():
    x = _x()
    (x * x).sum().backward()
    assert gg.is_grad_enabled()
    with gg.no_grad():
        y = x * 1.0
    with gg.enable_grad():
        (x * x).sum().backward(create_graph=True)
    assert gg.is_grad_enabled() and not y.requires_grad
