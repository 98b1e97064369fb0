"""The cyclical schedules (CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts) against
torch.optim.lr_scheduler: the learning rate and the momentum (SGD's momentum, Adam's beta1) of two
parameter groups over 300 steps for many option combinations, compared exactly; fractional
epochs; state-dict round trips; errors."""

import copy
import warnings

import pytest
import torch

import glassgrad as gg

STEPS = 300
LRS = (0.1, 0.05)


def make_optimizer(mod, kind="sgd"):
    groups = [{"params": [mod.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    if kind == "adam":
        return mod.optim.Adam(groups, lr=1.0, betas=(0.9, 0.99))
    if kind == "adagrad":
        return mod.optim.Adagrad(groups, lr=1.0)
    return mod.optim.SGD(groups, lr=1.0, momentum=0.5)


def snapshot(opt, sched):
    """Every group's lr and momentum (or beta1) as the optimizer holds them, and get_last_lr()."""
    momenta = [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]
    return [g["lr"] for g in opt.param_groups], momenta, list(sched.get_last_lr())


def run(build, mod, kind="sgd", steps=STEPS, epochs=None):
    """Snapshots after construction and after each scheduler step (``epochs``: step(epoch) with
    these values instead of step())."""
    opt = make_optimizer(mod, kind)
    sched = build(mod.optim.lr_scheduler, opt)
    seen = [snapshot(opt, sched)]
    for i in range(steps if epochs is None else len(epochs)):
        opt.step()
        if epochs is None:
            sched.step()
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation of step(epoch)
                sched.step(epochs[i])
        seen.append(snapshot(opt, sched))
    return seen


class HalfEachCycle:
    """A scale_fn with state (saved by state_dict, unlike a lambda)."""

    def __init__(self, base=0.5):
        self.base = base

    def __call__(self, x):
        return self.base ** (x - 1)


SCHEDULES = {
    # CyclicLR
    "Cyclic-triangular": ("sgd", lambda ls, opt: ls.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=20)),
    "Cyclic-triangular2-asymmetric": ("sgd", lambda ls, opt: ls.CyclicLR(
        opt, base_lr=[0.01, 0.002], max_lr=[0.1, 0.05], step_size_up=15, step_size_down=25, mode="triangular2")),
    "Cyclic-exp_range": ("sgd", lambda ls, opt: ls.CyclicLR(
        opt, 0.001, 0.1, step_size_up=17, mode="exp_range", gamma=0.995, base_momentum=[0.7, 0.8],
        max_momentum=[0.95, 0.9])),
    "Cyclic-scale_fn-cycle": ("sgd", lambda ls, opt: ls.CyclicLR(
        opt, 0.01, 0.2, step_size_up=10, step_size_down=5, scale_fn=lambda c: 1 / c)),
    "Cyclic-scale_fn-iterations": ("sgd", lambda ls, opt: ls.CyclicLR(
        opt, 0.01, 0.2, step_size_up=12, scale_fn=lambda e: 0.99**e, scale_mode="iterations")),
    "Cyclic-adam-betas": ("adam", lambda ls, opt: ls.CyclicLR(opt, 1e-4, 1e-2, step_size_up=30)),
    "Cyclic-no-momentum": ("adagrad", lambda ls, opt: ls.CyclicLR(
        opt, 0.01, 0.1, step_size_up=13, step_size_down=6, cycle_momentum=False)),
    # OneCycleLR
    "OneCycle-default": ("sgd", lambda ls, opt: ls.OneCycleLR(opt, max_lr=0.5, total_steps=STEPS)),
    "OneCycle-epochs-linear": ("sgd", lambda ls, opt: ls.OneCycleLR(
        opt, max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=31, anneal_strategy="linear")),
    "OneCycle-three-phase": ("sgd", lambda ls, opt: ls.OneCycleLR(
        opt, max_lr=0.3, total_steps=STEPS, pct_start=0.25, three_phase=True, div_factor=10.0,
        final_div_factor=100.0)),
    "OneCycle-three-phase-linear": ("sgd", lambda ls, opt: ls.OneCycleLR(
        opt, max_lr=0.3, total_steps=STEPS + 20, three_phase=True, anneal_strategy="linear",
        base_momentum=[0.8, 0.7], max_momentum=0.99)),
    "OneCycle-adam": ("adam", lambda ls, opt: ls.OneCycleLR(opt, max_lr=1e-2, total_steps=STEPS, pct_start=0.1)),
    "OneCycle-no-momentum": ("adagrad", lambda ls, opt: ls.OneCycleLR(
        opt, max_lr=0.1, total_steps=STEPS, cycle_momentum=False)),
    # CosineAnnealingWarmRestarts
    "WarmRestarts": ("sgd", lambda ls, opt: ls.CosineAnnealingWarmRestarts(opt, T_0=25)),
    "WarmRestarts-T_mult-2": ("sgd", lambda ls, opt: ls.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2,
                                                                                     eta_min=0.001)),
    "WarmRestarts-T_mult-3": ("adam", lambda ls, opt: ls.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=3,
                                                                                      eta_min=1e-4)),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    kind, build = SCHEDULES[name]
    ours, theirs = run(build, gg, kind), run(build, torch, kind)
    assert ours == theirs  # exact: the same arithmetic in the same order
    assert len({tuple(lrs) for lrs, _, _ in ours}) > 10  # the lr did move
    if "momentum" not in name and "WarmRestarts" not in name:
        assert len({tuple(m) for _, m, _ in ours}) > 10  # and so did the momentum


def test_one_cycle_shape():
    """Rises from max_lr / div_factor to max_lr at step pct_start · total − 1, then falls to
    max_lr / (div_factor · final_div_factor); the momentum mirrors it."""
    seen = run(SCHEDULES["OneCycle-default"][1], gg)
    lrs = [lr[0] for lr, _, _ in seen[:STEPS]]
    momenta = [m[0] for _, m, _ in seen[:STEPS]]
    peak = int(0.3 * STEPS) - 1
    assert lrs[0] == pytest.approx(0.5 / 25) and momenta[0] == pytest.approx(0.95)
    assert lrs.index(max(lrs)) == peak and lrs[peak] == pytest.approx(0.5)
    assert momenta[peak] == pytest.approx(0.85)
    assert lrs[-1] == pytest.approx(0.5 / 25 / 1e4)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


def test_one_cycle_refuses_steps_beyond_total_steps():
    for mod in (gg, torch):
        opt = make_optimizer(mod)
        sched = mod.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
        for _ in range(10):  # up to last_epoch = total_steps is allowed (as in PyTorch)
            opt.step()
            sched.step()
        opt.step()
        with pytest.raises(ValueError, match="(?i)tried to step 11 times"):
            sched.step()
    with pytest.raises(ValueError, match="total_steps=10; make total_steps"):
        sched2 = gg.optim.lr_scheduler.OneCycleLR(make_optimizer(gg), max_lr=0.1, total_steps=10)
        for _ in range(11):
            sched2.optimizer.step()
            sched2.step()


def test_cyclic_triangular_follows_its_formula():
    seen = run(lambda ls, opt: ls.CyclicLR(opt, 0.01, 0.11, step_size_up=10, step_size_down=5), gg)
    lrs = [lr[0] for lr, _, _ in seen]
    momenta = [m[0] for _, m, _ in seen]
    for e in (0, 5, 10, 12, 15, 25, 30):
        x = e % 15
        h = x / 10 if x <= 10 else (15 - x) / 5
        assert lrs[e] == pytest.approx(0.01 + 0.1 * h)
        assert momenta[e] == pytest.approx(0.9 - 0.1 * h)


WARM_RESTART_EPOCHS = {
    # step(epoch + i / iters) after each of 8 batches of 40 epochs, as the PyTorch docs show
    "fractional": [e + i / 8 for e in range(40) for i in range(8)],
    "jumps": [0, 3.5, 9.99, 10, 31.2, 2, 70, 69.5, 150.25, 0.5, 1000],
}


@pytest.mark.parametrize("epochs", list(WARM_RESTART_EPOCHS))
@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_with_epochs_matches_torch(epochs, t_mult):
    def build(ls, opt):
        return ls.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=t_mult, eta_min=0.002)

    ours = run(build, gg, epochs=WARM_RESTART_EPOCHS[epochs])
    theirs = run(build, torch, epochs=WARM_RESTART_EPOCHS[epochs])
    assert ours == theirs


def test_warm_restarts_restart_at_the_base_lr():
    seen = run(lambda ls, opt: ls.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2), gg, steps=80)
    lrs = [lr[0] for lr, _, _ in seen]
    assert [e for e in range(1, 80) if lrs[e] > lrs[e - 1]] == [10, 30, 70]  # periods 10, 20, 40
    assert lrs[10] == lrs[30] == lrs[70] == 0.1


RESUMABLE = ["Cyclic-triangular2-asymmetric", "Cyclic-exp_range", "Cyclic-adam-betas", "OneCycle-three-phase",
             "OneCycle-adam", "WarmRestarts-T_mult-2"]


def _resume(build, kind, split=120, steps=STEPS):
    opt = make_optimizer(gg, kind)
    sched = build(gg.optim.lr_scheduler, opt)
    for _ in range(split):
        opt.step()
        sched.step()
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    opt2 = make_optimizer(gg, kind)
    sched2 = build(gg.optim.lr_scheduler, opt2)  # build, then load, as PyTorch advises
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    resumed = []
    for _ in range(steps - split):
        opt2.step()
        sched2.step()
        resumed.append(snapshot(opt2, sched2))
    return resumed


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_round_trip_mid_schedule(name):
    kind, build = SCHEDULES[name]
    assert _resume(build, kind) == run(build, gg, kind)[121:]


def test_cyclic_state_dict_saves_a_callable_scale_fn_object_not_a_function():
    def build(ls, opt):
        return ls.CyclicLR(opt, 0.01, 0.1, step_size_up=10, scale_fn=HalfEachCycle(0.7))

    opt = make_optimizer(gg)
    sched = build(gg.optim.lr_scheduler, opt)
    sched._scale_fn_custom.base = 0.6  # state changed during training
    state = sched.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.6}
    fresh = build(gg.optim.lr_scheduler, make_optimizer(gg))
    fresh.load_state_dict(copy.deepcopy(state))
    assert fresh._scale_fn_custom.base == 0.6
    lam = gg.optim.lr_scheduler.CyclicLR(make_optimizer(gg), 0.01, 0.1, scale_fn=lambda c: 1.0)
    assert lam.state_dict()["_scale_fn_custom"] is None
    assert _resume(build, "sgd") == run(build, gg)[121:]


def test_cyclic_and_one_cycle_set_the_optimizer_groups_like_torch():
    for build in (lambda ls, opt: ls.CyclicLR(opt, [0.01, 0.02], 0.1),
                  lambda ls, opt: ls.OneCycleLR(opt, 0.1, total_steps=50)):
        groups = []
        for mod in (gg, torch):
            opt = make_optimizer(mod, "adam")
            build(mod.optim.lr_scheduler, opt)
            groups.append([{k: v for k, v in g.items() if k in ("lr", "initial_lr", "max_lr", "min_lr", "betas",
                                                                 "max_momentum", "base_momentum")}
                           for g in opt.param_groups])
        assert groups[0] == groups[1]


def test_momentum_cycles_in_sgd_updates():
    """The cycled momentum is the one SGD uses: the same parameters as torch after 30 steps."""
    results = []
    for mod in (gg, torch):
        w = mod.tensor([1.0, -2.0], requires_grad=True)
        opt = mod.optim.SGD([w], lr=0.1, momentum=0.9)
        sched = mod.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=30)
        for _ in range(30):
            opt.zero_grad()
            ((w * w).sum() + w[0] * w[1]).backward()
            opt.step()
            sched.step()
        results.append(w.detach().numpy().tolist())
    assert results[0] == pytest.approx(results[1], rel=1e-6)


def test_cyclic_errors():
    ls = gg.optim.lr_scheduler
    opt = make_optimizer(gg)
    with pytest.raises(TypeError, match="CyclicLR: expected an Optimizer, got list"):
        ls.CyclicLR([1], 0.01, 0.1)
    with pytest.raises(ValueError, match="expected 2 base_lr .* got 3"):
        ls.CyclicLR(opt, [0.1] * 3, 0.1)
    with pytest.raises(ValueError, match="expected 2 max_lr .* got 1"):
        ls.CyclicLR(opt, 0.01, [0.1])
    with pytest.raises(ValueError, match="expected mode 'triangular', 'triangular2' or 'exp_range'.* got 'sine'"):
        ls.CyclicLR(opt, 0.01, 0.1, mode="sine")
    with pytest.raises(ValueError, match="step_size_up > 0, got 0"):
        ls.CyclicLR(opt, 0.01, 0.1, step_size_up=0)
    with pytest.raises(ValueError, match="scale_mode 'cycle' or 'iterations', got 'epoch'"):
        ls.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="epoch")
    with pytest.raises(ValueError, match="Adagrad has neither; pass cycle_momentum=False"):
        ls.CyclicLR(make_optimizer(gg, "adagrad"), 0.01, 0.1)
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        torch.optim.lr_scheduler.CyclicLR(make_optimizer(torch, "adagrad"), 0.01, 0.1)


def test_one_cycle_errors():
    ls = gg.optim.lr_scheduler
    opt = make_optimizer(gg)
    with pytest.raises(ValueError, match="either total_steps, or both epochs and steps_per_epoch"):
        ls.OneCycleLR(opt, 0.1, epochs=3)
    with pytest.raises(ValueError, match="positive integer total_steps, got 0"):
        ls.OneCycleLR(opt, 0.1, total_steps=0)
    with pytest.raises(ValueError, match="positive integer steps_per_epoch, got 2.5"):
        ls.OneCycleLR(opt, 0.1, epochs=3, steps_per_epoch=2.5)
    with pytest.raises(ValueError, match=r"pct_start to be a float in \[0, 1\], got 1.5"):
        ls.OneCycleLR(opt, 0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy 'cos' or 'linear', got 'exp'"):
        ls.OneCycleLR(opt, 0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="Adagrad has neither"):
        ls.OneCycleLR(make_optimizer(gg, "adagrad"), 0.1, total_steps=10)
    with pytest.raises(ValueError, match="expected 2 max_lr"):
        ls.OneCycleLR(opt, [0.1] * 3, total_steps=10)


def test_warm_restarts_errors():
    ls = gg.optim.lr_scheduler
    opt = make_optimizer(gg)
    with pytest.raises(ValueError, match="positive integer T_0, got 0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="positive integer T_0, got 2.5"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=2.5)
    with pytest.raises(ValueError, match="integer T_mult >= 1, got 0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=0)
    with pytest.raises(ValueError, match="float or int eta_min, got str"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=5, eta_min="0")
    sched = ls.CosineAnnealingWarmRestarts(opt, T_0=5)
    with pytest.raises(ValueError, match="non-negative epoch, got -1"):
        sched.step(-1)
