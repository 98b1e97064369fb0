"""no_grad, enable_grad, set_grad_enabled and inference_mode, as context managers and as
decorators, like PyTorch's; grad mode and anomaly mode are per thread."""

import threading

import numpy as np
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


# -- grad mode and anomaly mode are per thread, as in PyTorch -----------------------------------


def _run_in_thread(fn):
    """Run ``fn`` in a new thread and return its result (re-raising its exception here)."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test's thread
            out["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _train(seed: int, barrier: threading.Barrier | None, steps: int = 150) -> list:
    """A small regression trained by hand; with ``barrier`` the two threads meet inside their
    ``no_grad`` updates at every step, so each enters and leaves it while the other is inside."""
    rng = np.random.default_rng(seed)
    x = gg.tensor(rng.standard_normal((16, 3)))
    y = gg.tensor(rng.standard_normal((16, 1)))
    w1 = gg.tensor(rng.standard_normal((3, 8)) * 0.5, requires_grad=True)
    w2 = gg.tensor(rng.standard_normal((8, 1)) * 0.5, requires_grad=True)
    for _ in range(steps):
        loss = ((gg.tanh(x @ w1) @ w2 - y) ** 2).mean()
        loss.backward()
        with gg.no_grad():
            if barrier is not None:
                barrier.wait(timeout=30)
            for w in (w1, w2):
                w -= 0.1 * w.grad
                w.grad = None
    return [w1.detach().numpy().copy(), w2.detach().numpy().copy()]


def test_two_threads_training_at_once_match_the_runs_one_after_the_other():
    expected = [_train(0, None), _train(1, None)]
    barrier = threading.Barrier(2)
    results, errors = [None, None], []

    def worker(i):
        try:
            results[i] = _train(i, barrier)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for got, want in zip(results, expected):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    assert gg.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_switch_recording_off_in_another():
    entered, done = threading.Event(), threading.Event()

    def other():
        with gg.no_grad():
            entered.set()
            done.wait(timeout=30)
            return gg.is_grad_enabled(), (_x() * 2).requires_grad

    t_out = {}
    t = threading.Thread(target=lambda: t_out.update(value=other()))
    t.start()
    assert entered.wait(timeout=30)
    try:
        # the other thread is inside no_grad right now; this one still records
        assert gg.is_grad_enabled()
        assert (_x() * 2).requires_grad
    finally:
        done.set()
        t.join()
    assert t_out["value"] == (False, False)


@pytest.mark.parametrize("lib", [gg, torch], ids=["glassgrad", "torch"])
def test_a_new_thread_starts_with_grad_on(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        seen = _run_in_thread(lambda: (lib.is_grad_enabled(), (x * 2).requires_grad))
        assert not lib.is_grad_enabled()
    assert seen == (True, True)


def test_a_new_thread_starts_with_anomaly_detection_off():
    # unlike grad mode, PyTorch's anomaly mode is one switch for the whole process; glassgrad's
    # is per thread like grad mode, so one thread's debugging does not slow the others
    with gg.autograd.detect_anomaly():
        assert _run_in_thread(gg.autograd.is_anomaly_enabled) is False
        assert gg.autograd.is_anomaly_enabled()
    assert not gg.autograd.is_anomaly_enabled()


def test_anomaly_mode_in_one_thread_does_not_check_another():
    x = gg.tensor([-1.0], requires_grad=True)
    with gg.autograd.detect_anomaly():
        assert _run_in_thread(lambda: bool(gg.log(x).isnan().all()))  # no error raised there
        with pytest.raises(FloatingPointError, match="Log"):
            gg.log(x)
