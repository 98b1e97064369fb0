"""Break glassgrad on purpose, then see which of a lab's claims still hold.

A claim that still holds when the library is broken does not show what the lecture teaches: it
would pass with any library. Each breakage below is a context manager that changes glassgrad at
one narrow, stable place (``gg.optim.Optimizer`` and its subclasses' ``step``, the ReLU op's
``backward``, ``gg.autograd.grad``), so the breakages keep working when the rest of the library is
refactored, and undoes every change on exit.
Each gives a ``Breakage`` whose ``calls`` counts how often the broken code ran, so that a lab that
never reaches it (``with frozen() as b: ...; b.calls == 0``) is told from one that does not notice.

- ``frozen()``: every optimizer's ``step`` leaves the parameters unchanged (the real step runs, so
  the optimizer's state and learning-rate schedules advance as usual, then the parameters are put
  back). A lab that trains should notice that nothing was learned.
- ``ascent()``: the gradients are negated just before every optimizer step (and put back after),
  so each optimizer climbs the loss instead of descending it. A lab that trains should notice
  that the loss went up or blew up.
- ``relu_half()``: ReLU's forward is unchanged but its derivative is halved (1/2 instead of 1 for
  x > 0): the backward of glassgrad's ReLU op (``glassgrad.functions.activation.ReLU``) is
  replaced, so every way to a ReLU is broken, including a function object taken earlier (the
  default activation of ``nn.TransformerEncoderLayer``). Every gradient through a ReLU
  network is then wrong by a factor that shrinks with depth, while every forward value is right:
  the kind of bug a gradient check catches and a loss curve may hide. But every path from the
  loss to a layer's weights crosses the same number of ReLUs, so each layer's gradient is only
  multiplied by a constant: Adam's update ignores that exactly, and for SGD it is a per-layer
  learning rate. Under Adam it is an equivalent mutation, which no honest claim can catch; it is
  kept to show that, and the tests hold the labs to the next one.
- ``relu_nomask()``: ReLU's forward unchanged, its backward forgets the mask (derivative 1 for
  x < 0 as well), a classic bug: the gradient is that of a network whose units are all on, so it
  is wrong in direction, not only in size. A lab whose claims rest on trained ReLU networks
  should notice.
- ``wrong_hvp(scale=1.0)``: second derivatives are wrong, first derivatives right.
  ``gg.autograd.grad(..., create_graph=True)`` returns gradients with the right values whose own
  derivative with respect to the inputs carries an extra fixed random symmetric matrix S (entries
  of size ``scale``): every Hessian, Hessian-vector product and ``gradient of ||g||^2`` computed by
  double backprop (``gg.autograd.functional.hessian`` / ``hvp``, ``glassgrad.analysis``) is H + S
  instead of H. S is symmetric, so a symmetry check cannot catch it; its eigenvalues spread over
  about +-2 scale sqrt(n) for n parameters. Meant for the critical-points lab, whose claims are
  about Hessians.

Loops written by hand (``w -= lr * w.grad``) are not broken by ``frozen`` and ``ascent``, on
purpose: a claim that such a loop checks does not test ``gg.optim``.

What counts: a claim that holds under a breakage "survives". A lab that raises under a breakage
has not detected it, it has crashed; ``run_quick`` returns its result with ``error`` set and the
tests report it as a failure of its own, not as failed claims. A run that goes to NaN or inf is a
legitimate detection when it makes a claim fail (as a user reading the report would see it); a
claim whose check is True on NaN (``not x > y``) survives, as it should.

Run as a script to see, per lab and breakage, how many claims hold (quick setting, seed 0)::

    PYTHONPATH=src python -m tests.labs.mutations [LAB ...] [--mutations frozen,ascent] [--baseline]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

import glassgrad as gg
from glassgrad.labs import LabResult, all_labs, get_lab, run_lab
from glassgrad.labs._lab import Claim

_MISSING = object()


class Breakage:
    """What a breakage's ``with`` block gives: ``calls`` counts how often the broken code ran (an
    optimizer step, a ReLU, a gradient made with create_graph=True), so that a lab that never
    reaches it can be told from one that does and does not notice. It also sets attributes and
    puts them all back (in reverse order) on exit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0
        self._undo: list[tuple[object, str, object]] = []

    def set(self, owner: object, name: str, value: object) -> None:
        # a class's own attribute is put back as it was; an inherited one is deleted again
        own = owner.__dict__ if isinstance(owner, type) else vars(owner)
        self._undo.append((owner, name, own.get(name, _MISSING)))
        setattr(owner, name, value)

    def undo(self) -> None:
        while self._undo:
            owner, name, old = self._undo.pop()
            if old is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, old)


@contextlib.contextmanager
def _patched(breakage: Breakage, apply: Callable[[Breakage], None]) -> Iterator[Breakage]:
    try:
        apply(breakage)
        yield breakage
    finally:
        breakage.undo()


def _optimizer_classes() -> list[type]:
    """gg.optim.Optimizer and every subclass of it defined so far."""
    found, todo = [], [gg.optim.Optimizer]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def _wrap_every_step(patches: Breakage, wrap: Callable[[Callable], Callable]) -> None:
    """Replace the ``step`` of every optimizer class that defines one by ``wrap(step)``. A step
    that calls another (a subclass's ``step`` calling ``super().step()``) is broken once: only the
    outermost call runs the wrapper."""
    depth = threading.local()

    def outermost(step: Callable, broken: Callable) -> Callable:
        @functools.wraps(step)
        def run(self, *args, **kwargs):
            if getattr(depth, "n", 0):
                return step(self, *args, **kwargs)
            depth.n = 1
            patches.calls += 1
            try:
                return broken(self, *args, **kwargs)
            finally:
                depth.n = 0

        return run

    for cls in _optimizer_classes():
        step = cls.__dict__.get("step")
        if step is not None:
            patches.set(cls, "step", outermost(step, wrap(step)))


def _params_with_grad(optimizer) -> list[gg.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]


def frozen() -> contextlib.AbstractContextManager[Breakage]:
    """Every optimizer's step leaves the parameters unchanged."""

    def wrap(step):
        def frozen_step(self, *args, **kwargs):
            params = [p for group in self.param_groups for p in group["params"]]
            before = [p.detach().clone() for p in params]
            loss = step(self, *args, **kwargs)
            with gg.no_grad():
                for p, b in zip(params, before):
                    p.copy_(b)
            return loss

        return frozen_step

    return _patched(Breakage("frozen"), lambda patches: _wrap_every_step(patches, wrap))


def ascent() -> contextlib.AbstractContextManager[Breakage]:
    """Gradient ascent: the gradients are negated before every optimizer step."""

    def wrap(step):
        def ascent_step(self, *args, **kwargs):
            params = _params_with_grad(self)
            grads = [p.grad for p in params]
            for p, g in zip(params, grads):
                p.grad = -g
            try:
                return step(self, *args, **kwargs)
            finally:
                for p, g in zip(params, grads):
                    p.grad = g

        return ascent_step

    return _patched(Breakage("ascent"), lambda patches: _wrap_every_step(patches, wrap))


def _half_slope_backward(self, gy):
    """ReLU's derivative halved: 1/2 for x > 0 (the right one is 1). Written with tensor ops, so
    that gradients of gradients flow through it as through ReLU's own backward."""
    return gy * (self.inputs[0].detach() > 0).to(gy.dtype) * 0.5


def _unmasked_backward(self, gy):
    """ReLU's backward forgetting the mask: derivative 1 for x < 0 too (the right one is 0)."""
    return gy


def _wrong_relu(name: str, backward: Callable) -> contextlib.AbstractContextManager[Breakage]:
    """ReLU's op computes its gradient with ``backward``. The op class is patched, not the
    functions that call it: every way to a ReLU (``gg.relu``, ``F.relu``, ``Tensor.relu``,
    ``nn.ReLU``, and a function object taken before the breakage, such as the default activation
    of ``nn.TransformerEncoderLayer``) ends in it. ``calls`` counts the broken backwards."""
    from glassgrad.functions.activation import ReLU

    breakage = Breakage(name)

    def wrong_backward(self, gy):
        breakage.calls += 1
        return backward(self, gy)

    return _patched(breakage, lambda patches: patches.set(ReLU, "backward", wrong_backward))


def relu_half() -> contextlib.AbstractContextManager[Breakage]:
    """ReLU's derivative halved, its forward unchanged."""
    return _wrong_relu("relu_half", _half_slope_backward)


def relu_nomask() -> contextlib.AbstractContextManager[Breakage]:
    """ReLU's backward without its mask (derivative 1 everywhere), its forward unchanged."""
    return _wrong_relu("relu_nomask", _unmasked_backward)


class _SecondOrderError(gg.autograd.Function):
    """Returns the gradient block g_i unchanged, and adds rows of S to its derivative with respect
    to the inputs theta: d(sum_i g_i . v_i)/d theta = H v + S v."""

    uses_inputs = False

    def __init__(self, s_rows: np.ndarray, sizes: list[int]):
        self.s_rows, self.sizes = s_rows, sizes

    def forward(self, g, *thetas):
        return g.copy()

    def backward(self, gy):
        sv = self.s_rows.T @ gy.detach().numpy().reshape(-1)  # S symmetric: (S^T v) = (S v) restricted
        parts = np.split(sv, np.cumsum(self.sizes)[:-1])
        return (gy, *(gg.tensor(part.reshape(x.shape), dtype=gy.dtype)
                      for part, x in zip(parts, self.inputs[1:])))


def _symmetric_noise(n: int, scale: float) -> np.ndarray:
    """A fixed random symmetric n x n matrix (the same for the same n, drawn from its own
    generator, so the labs' own random numbers are not disturbed). Dense up to 4000 parameters,
    of rank 16 above (a dense one would not fit in memory)."""
    rng = np.random.default_rng(20260 + n)
    if n <= 4000:
        a = rng.normal(0.0, scale, (n, n))
        return (a + a.T) / np.sqrt(2)
    u = rng.normal(0.0, 1.0, (n, 16)) / np.sqrt(n)
    return scale * np.sqrt(n) * (u * rng.choice([-1.0, 1.0], 16)) @ u.T


def wrong_hvp(scale: float = 1.0) -> contextlib.AbstractContextManager[Breakage]:
    """Every Hessian (and Hessian-vector product) computed by double backprop is H + S for a fixed
    random symmetric S; first derivatives stay right."""
    real_grad = gg.autograd.grad
    noise: dict[int, np.ndarray] = {}
    breakage = Breakage("wrong_hvp")

    @functools.wraps(real_grad)
    def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
        grads = real_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused)
        if not create_graph:
            return grads
        breakage.calls += 1
        thetas = [inputs] if isinstance(inputs, gg.Tensor) else list(inputs)
        sizes = [x.numel() for x in thetas]
        n = sum(sizes)
        if n not in noise:
            noise[n] = _symmetric_noise(n, scale)
        s, start, out = noise[n], 0, []
        for g, size in zip(grads, sizes):
            out.append(g if g is None else _SecondOrderError(s[start:start + size], sizes)(g, *thetas))
            start += size
        return tuple(out)

    return _patched(breakage, lambda patches: patches.set(gg.autograd, "grad", grad))


MUTATIONS: dict[str, Callable[[], contextlib.AbstractContextManager[Breakage]]] = {
    "frozen": frozen,
    "ascent": ascent,
    "relu_half": relu_half,
    "relu_nomask": relu_nomask,
    "wrong_hvp": wrong_hvp,
}
# the labs each breakage is meant for (every lab trains, so the first three apply to all)
MUTATION_LABS: dict[str, list[str] | None] = {"frozen": None, "ascent": None, "relu_half": None,
                                              "relu_nomask": None, "wrong_hvp": ["critical-points"]}


def run_quick(lab_name: str, seed: int = 0) -> LabResult:
    """Run a lab's quick setting (no progress bars) into a temporary folder; its LabResult."""
    with tempfile.TemporaryDirectory(prefix=f"mut-{lab_name}-") as out:
        return run_lab(get_lab(lab_name), Path(out), full=False, seed=seed, progress=False)


def surviving_claims(result: LabResult) -> list[Claim]:
    """The claims that hold in ``result`` (the survivors, when it ran under a breakage)."""
    return [c for c in result.claims if c.holds]


def _line(lab: str, mutation: str, r: LabResult, calls: int | None = None) -> str:
    survivors = surviving_claims(r)
    nan = sum(("nan" in c.measured.lower() or "inf" in c.measured.lower()) for c in r.claims)
    note = f", CRASHED: {r.error.strip().splitlines()[0]}" if r.error else ""
    note += f", nan/inf in {nan} measured value(s)" if nan else ""
    note += ", NOT EXERCISED (the lab never ran the broken code)" if calls == 0 else ""
    return f"{lab:<20} {mutation:<10} {len(survivors):>2} of {len(r.claims):>2} claims hold ({r.seconds:.0f} s){note}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.labs.mutations",
                                     description="Run labs (quick, seed 0) under breakages; count surviving claims.")
    parser.add_argument("labs", nargs="*", help="lab names (default: every lab)")
    parser.add_argument("--mutations", default=None,
                        help=f"comma-separated, from {', '.join(MUTATIONS)} (default: all; wrong_hvp only on the "
                        "labs it is meant for unless named)")
    parser.add_argument("--baseline", action="store_true", help="also run each lab unbroken")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="only the counts, not the surviving claims")
    args = parser.parse_args(argv)
    names = args.labs or [lab.name for lab in all_labs()]
    explicit = args.mutations is not None
    chosen = [m.strip() for m in (args.mutations or ",".join(MUTATIONS)).split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MUTATIONS]
    if unknown:
        parser.error(f"unknown mutation(s) {', '.join(unknown)}; known: {', '.join(MUTATIONS)}")
    totals: dict[str, list[int]] = {}
    t0 = time.perf_counter()
    for name in names:
        get_lab(name)  # an unknown name fails before any run
        if args.baseline:
            print(_line(name, "none", run_quick(name, args.seed)), flush=True)
        for m in chosen:
            meant = MUTATION_LABS[m]
            if meant is not None and name not in meant and not explicit:
                continue
            with MUTATIONS[m]() as breakage:
                r = run_quick(name, args.seed)
            print(_line(name, m, r, breakage.calls), flush=True)
            if not args.quiet:
                for c in surviving_claims(r):
                    print(f"    survives: {c.text} -- measured {c.measured}")
            t = totals.setdefault(m, [0, 0])
            t[0] += len(surviving_claims(r))
            t[1] += len(r.claims)
    for m, (held, total) in totals.items():
        print(f"{m}: {held} of {total} claims survive")
    print(f"{time.perf_counter() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
