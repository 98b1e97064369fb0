"""The labs' claims fail when glassgrad is broken on purpose (the breakages are in mutations.py).

First, fast (part of the default run): each breakage does what it says on a tiny problem and is
undone on exit. Then, slow-marked (``pytest -m slow tests/labs/test_mutations.py``, about 15
minutes on a busy 2-core machine): every lab's quick setting, seed 0, under each breakage:

- every lab that trains (all of them) has at least one failing claim under ``frozen`` and
  ``ascent``; every lab that calls a ReLU, under ``relu_nomask``; the critical-points lab, under
  ``wrong_hvp``. A lab that raises under a breakage fails the test with its error: a crash is not
  a failed claim. A lab that never runs the broken code (no optimizer step, no ReLU) is reported;
  for ``frozen`` and ``ascent`` that is a failure (its training does not use ``gg.optim``).
- at most a quarter of all claims survive ``frozen``, and at most a quarter survive ``ascent``.
  The claims counted are those each lab makes under the breakage (a lab that stops early makes
  fewer, which can only raise the share that survives).

``relu_half`` (ReLU's derivative halved) is tested for what it does but not asserted on the labs:
it multiplies the gradient of every weight of a layer by the same constant (every path from the
loss to a layer crosses the same number of ReLUs), which Adam's update ignores exactly and SGD
sees as a per-layer learning rate. It is an equivalent mutation for the labs that train with Adam,
so no honest claim can catch it there; ``relu_nomask`` (the backward forgets ReLU's mask, the
classic bug) is the wrong derivative the labs are held to.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.analysis import hessian_of
from glassgrad.functions.activation import relu as _relu_taken_at_import
from glassgrad.labs import all_labs
from tests.labs.mutations import (
    MUTATIONS,
    ascent,
    frozen,
    relu_half,
    relu_nomask,
    run_quick,
    surviving_claims,
    wrong_hvp,
)

OPTIMIZERS = [gg.optim.SGD, gg.optim.Adam, gg.optim.AdamW, gg.optim.RMSprop, gg.optim.Adagrad]


def _train(opt_class, steps=3, **options):
    """A few steps of ``opt_class`` on sum(w^2) from w = (1, -2): (final w, its grad, losses)."""
    w = gg.tensor([1.0, -2.0], requires_grad=True)
    opt = opt_class([w], lr=0.1, **options)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        losses.append(loss.item())
        opt.step()
    return w.detach().numpy(), w.grad.numpy(), losses


# ---------------------------------------------------------------- the breakages, on tiny problems


@pytest.mark.parametrize("opt_class", OPTIMIZERS, ids=lambda c: c.__name__)
def test_frozen_optimizers_leave_the_parameters_unchanged(opt_class):
    with frozen() as breakage:
        w, grad, _ = _train(opt_class)
    assert breakage.calls == 3
    np.testing.assert_array_equal(w, [1.0, -2.0])
    np.testing.assert_array_equal(grad, [2.0, -4.0])  # the gradient itself is left alone
    assert not np.allclose(_train(opt_class)[0], [1.0, -2.0])  # undone on exit


@pytest.mark.parametrize("opt_class", OPTIMIZERS, ids=lambda c: c.__name__)
def test_ascent_climbs_the_loss(opt_class):
    momentum = {"momentum": 0.9} if opt_class is gg.optim.SGD else {}
    right_w, right_grad, right = _train(opt_class, **momentum)
    with ascent():
        w, grad, climbing = _train(opt_class, **momentum)
    assert right[-1] < right[0] and climbing[-1] > climbing[0]
    assert np.all(np.abs(w) > [1.0, 2.0])  # moved away from the minimum at 0
    assert np.sign(grad).tolist() == np.sign(w).tolist()  # p.grad put back: sum(w^2)'s, not its negative
    np.testing.assert_allclose(_train(opt_class, **momentum)[0], right_w)  # undone on exit


def test_a_step_that_calls_its_parent_step_is_broken_once():
    class Wrapped(gg.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    with ascent() as breakage:
        w, _, losses = _train(Wrapped)
    assert breakage.calls == 3 and losses[-1] > losses[0]  # negated once per step, not twice
    with frozen():
        np.testing.assert_array_equal(_train(Wrapped)[0], [1.0, -2.0])


def test_breakages_reach_the_training_loop():
    model = gg.nn.Linear(2, 1)
    x, y = gg.randn(16, 2), gg.randn(16, 1)
    before = [p.detach().clone() for p in model.parameters()]
    loader = gg.utils.data.DataLoader(gg.utils.data.TensorDataset(x, y), batch_size=8)
    with frozen() as breakage:
        gg.train.fit(model, gg.optim.SGD(model.parameters(), lr=0.1), F.mse_loss, loader, epochs=2, progress=False)
    assert breakage.calls == 4
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.detach().numpy(), b.numpy())


RELU_CALLS = {
    "gg.relu": lambda x: gg.relu(x),
    "F.relu": lambda x: F.relu(x),
    "Tensor.relu": lambda x: x.relu(),
    "nn.ReLU": lambda x: gg.nn.ReLU()(x),
    # a function object taken at import time, as nn.TransformerEncoderLayer's default activation is
    "functions.activation.relu": lambda x: _relu_taken_at_import(x),
}


@pytest.mark.parametrize("call", RELU_CALLS.values(), ids=RELU_CALLS.keys())
@pytest.mark.parametrize("breakage, slope", [(relu_half, (0.0, 0.5)), (relu_nomask, (1.0, 1.0))],
                         ids=["relu_half", "relu_nomask"])
def test_wrong_relu_derivative_with_the_forward_unchanged(call, breakage, slope):
    x = gg.tensor([-1.5, -0.5, 0.5, 2.0], requires_grad=True)
    with breakage() as b:
        y = call(x)
        (g,) = gg.autograd.grad((y * y).sum(), [x], create_graph=True)
        (gg_,) = gg.autograd.grad(g.sum(), [x])  # second order still flows
    assert b.calls == 2  # ReLU's backward ran in each of the two backward passes
    np.testing.assert_array_equal(y.detach().numpy(), [0, 0, 0.5, 2.0])
    # d(relu(x)^2)/dx = 2 relu(x) relu'(x): zero where relu(x) = 0 whatever the slope there
    np.testing.assert_allclose(g.detach().numpy(), [0, 0, 2 * 0.5 * slope[1], 2 * 2.0 * slope[1]])
    np.testing.assert_allclose(gg_.numpy(), [2 * slope[0] ** 2] * 2 + [2 * slope[1] ** 2] * 2)
    (right,) = gg.autograd.grad(call(x).sum(), [x])
    np.testing.assert_array_equal(right.numpy(), [0, 0, 1, 1])  # undone on exit


def _cubic(a, b):
    return (a ** 3).sum() * b.sum() + (a * b.sum()).sum() ** 2


def test_wrong_hvp_changes_second_derivatives_only():
    a = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    b = gg.tensor([[0.5]], dtype=gg.float64, requires_grad=True)
    loss, g, right = hessian_of(lambda: _cubic(a, b), [a, b])
    v = (gg.tensor([1.0, -1.0], dtype=gg.float64), gg.tensor([[2.0]], dtype=gg.float64))
    right_hvp = np.concatenate([h.numpy().reshape(-1) for h in gg.autograd.functional.hvp(_cubic, (a, b), v)[1]])
    with wrong_hvp() as breakage:
        wrong_loss, wrong_g, wrong = hessian_of(lambda: _cubic(a, b), [a, b])
        (g1,) = gg.autograd.grad(_cubic(a, b), [a])
        (g2,) = gg.autograd.grad(_cubic(a, b), [a], create_graph=True)
        hvp = np.concatenate([h.numpy().reshape(-1) for h in gg.autograd.functional.hvp(_cubic, (a, b), v)[1]])
        blocks = gg.autograd.functional.hessian(_cubic, (a, b))
    assert breakage.calls > 0
    assert wrong_loss == loss
    np.testing.assert_array_equal(wrong_g, g)  # first derivatives stay right ...
    np.testing.assert_array_equal(g1.numpy(), g[:2])
    np.testing.assert_array_equal(g2.detach().numpy(), g[:2])
    s = wrong - right  # ... second derivatives get a fixed symmetric error of size about 1
    np.testing.assert_allclose(s, s.T)
    assert np.abs(s).max() > 0.1
    np.testing.assert_allclose(hvp, right_hvp + s @ np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(blocks[0][0].numpy(), right[:2, :2] + s[:2, :2])
    np.testing.assert_array_equal(hessian_of(lambda: _cubic(a, b), [a, b])[2], right)  # undone on exit


# ---------------------------------------------------------------- the labs, broken (slow)

LABS = [lab.name for lab in all_labs()]
# (mutation, lab) pairs asserted: every lab under the optimizer breakages and the wrong ReLU
# derivative (skipped where a lab never calls ReLU), and the Hessian lab under wrong_hvp
ASSERTED = [(m, lab) for m in ("frozen", "ascent", "relu_nomask") for lab in LABS] + [("wrong_hvp", "critical-points")]


@pytest.fixture(scope="module")
def broken_runs():
    """The quick run of a lab under a breakage, run once per (lab, breakage) for this module:
    (the lab's result, how often the broken code ran)."""
    done: dict[tuple[str, str], tuple] = {}

    def get(lab: str, mutation: str):
        if (lab, mutation) not in done:
            with MUTATIONS[mutation]() as breakage:
                result = run_quick(lab)
            done[lab, mutation] = result, breakage.calls
        return done[lab, mutation]

    return get


def _claims(claims) -> str:
    return "".join(f"\n  - {c.text} -- measured {c.measured}" for c in claims)


@pytest.mark.slow
@pytest.mark.parametrize("mutation, lab", ASSERTED)
def test_a_broken_library_fails_a_claim(mutation, lab, broken_runs):
    result, calls = broken_runs(lab, mutation)
    assert result.error is None, f"{lab} raised under {mutation} (a crash is not a failed claim):\n{result.error}"
    if calls == 0:
        if mutation in ("frozen", "ascent"):
            pytest.fail(f"{lab} never calls an optimizer's step: its training does not use gg.optim")
        pytest.skip(f"{lab} never runs the code {mutation} breaks")
    survivors = surviving_claims(result)
    assert len(survivors) < len(result.claims), (
        f"all {len(result.claims)} claims of {lab} hold with {mutation}:{_claims(survivors)}")


@pytest.mark.slow
@pytest.mark.parametrize("mutation", ["frozen", "ascent"])
def test_at_most_a_quarter_of_the_claims_survive(mutation, broken_runs):
    runs = {lab: broken_runs(lab, mutation)[0] for lab in LABS}
    survived = sum(len(surviving_claims(r)) for r in runs.values())
    total = sum(len(r.claims) for r in runs.values())
    per_lab = "".join(f"\n{lab}: {len(surviving_claims(r))} of {len(r.claims)}{_claims(surviving_claims(r))}"
                      for lab, r in runs.items() if surviving_claims(r))
    assert total > 0 and survived <= total / 4, f"{survived} of {total} claims survive {mutation}:{per_lab}"
