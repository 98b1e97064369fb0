"""Every learning-rate schedule against torch.optim.lr_scheduler: the learning rates of 200 steps,
two parameter groups, compared exactly."""

import copy
import math
import warnings

import numpy as np
import pytest
import torch

import glassgrad as gg

STEPS = 200
LRS = (0.1, 0.05)


def make_optimizer(mod):
    groups = [{"params": [mod.zeros(2, requires_grad=True)], "lr": lr} for lr in LRS]
    return mod.optim.SGD(groups, lr=1.0)


def run(build, mod, steps=STEPS, metrics=None):
    """The lrs of every group after construction and after each of ``steps`` scheduler steps."""
    opt = make_optimizer(mod)
    sched = build(mod.optim.lr_scheduler, opt)
    seen = [[g["lr"] for g in opt.param_groups]]
    last = [list(sched.get_last_lr())]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seen.append([g["lr"] for g in opt.param_groups])
        last.append(list(sched.get_last_lr()))
    return seen, last


def _two_schedulers_on_one_optimizer(ls, opt):
    class Both:  # step two schedulers of one optimizer by hand: their factors compose
        def __init__(self):
            self.a = ls.ExponentialLR(opt, gamma=0.99)
            self.b = ls.StepLR(opt, step_size=30, gamma=0.5)

        def step(self):
            self.a.step()
            self.b.step()

        def get_last_lr(self):
            return self.b.get_last_lr()

    return Both()


SCHEDULES = {
    "StepLR": lambda ls, opt: ls.StepLR(opt, step_size=30),
    "StepLR-gamma": lambda ls, opt: ls.StepLR(opt, step_size=7, gamma=0.8),
    "MultiStepLR": lambda ls, opt: ls.MultiStepLR(opt, milestones=[30, 80, 80, 150], gamma=0.5),
    "ExponentialLR": lambda ls, opt: ls.ExponentialLR(opt, gamma=0.97),
    "CosineAnnealingLR": lambda ls, opt: ls.CosineAnnealingLR(opt, T_max=200),
    "CosineAnnealingLR-periods": lambda ls, opt: ls.CosineAnnealingLR(opt, T_max=30, eta_min=0.001),
    "LambdaLR": lambda ls, opt: ls.LambdaLR(opt, lambda e: 0.95**e),
    "LambdaLR-per-group": lambda ls, opt: ls.LambdaLR(opt, [lambda e: 1 / (1 + e),
                                                            lambda e: 0.5 ** (e // 10)]),
    "MultiplicativeLR": lambda ls, opt: ls.MultiplicativeLR(opt, lambda e: 0.99 if e % 2 else 0.98),
    "LinearLR-warmup": lambda ls, opt: ls.LinearLR(opt, start_factor=0.25, total_iters=20),
    "LinearLR-decay": lambda ls, opt: ls.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=150),
    "ConstantLR": lambda ls, opt: ls.ConstantLR(opt, factor=0.5, total_iters=10),
    "PolynomialLR": lambda ls, opt: ls.PolynomialLR(opt, total_iters=150, power=2.0),
    "SequentialLR-warmup-cosine": lambda ls, opt: ls.SequentialLR(
        opt, [ls.LinearLR(opt, start_factor=0.1, total_iters=10), ls.CosineAnnealingLR(opt, T_max=190)],
        milestones=[10]),
    "SequentialLR-three": lambda ls, opt: ls.SequentialLR(
        opt, [ls.ConstantLR(opt, factor=0.3, total_iters=20), ls.ExponentialLR(opt, gamma=0.98),
              ls.StepLR(opt, step_size=25, gamma=0.7)], milestones=[20, 100]),
    "ChainedScheduler": lambda ls, opt: ls.ChainedScheduler(
        [ls.LinearLR(opt, start_factor=0.2, total_iters=40), ls.ExponentialLR(opt, gamma=0.99),
         ls.MultiStepLR(opt, milestones=[50, 120], gamma=0.3)]),
    "two-schedulers-chained-by-hand": _two_schedulers_on_one_optimizer,
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name):
    ours, theirs = run(SCHEDULES[name], gg), run(SCHEDULES[name], torch)
    assert ours == theirs  # exact: the same arithmetic in the same order
    assert len({tuple(lrs) for lrs in ours[0]}) > 1  # the schedule did change the lr


_noise = 0.01 * np.random.default_rng(0).standard_normal(160)
METRICS = np.concatenate([np.linspace(1.0, 0.5, 40), 0.5 + _noise])  # improves, then a noisy plateau
PLATEAU_CASES = [
    dict(),
    dict(patience=5, factor=0.5),
    dict(patience=3, factor=0.5, cooldown=4, threshold=0.01),
    dict(patience=2, threshold=0.005, threshold_mode="abs", min_lr=[0.02, 0.001]),
    dict(mode="max", patience=4, factor=0.3, min_lr=1e-3),
    dict(mode="max", patience=1, threshold_mode="abs", threshold=0.0, eps=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU_CASES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_reduce_lr_on_plateau_matches_torch(options):
    metrics = [float(m) for m in (-METRICS if options.get("mode") == "max" else METRICS)]
    build = lambda ls, opt: ls.ReduceLROnPlateau(opt, **options)  # noqa: E731
    ours, theirs = run(build, gg, metrics=metrics), run(build, torch, metrics=metrics)
    assert ours == theirs
    assert ours[0][-1] != ours[0][0]


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = make_optimizer(gg)
    sched = gg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(gg.tensor(1.0))
    sched.step(gg.tensor(2.0))
    assert sched.get_last_lr() == [0.1 * 0.1, 0.05 * 0.1]


def test_warmup_inverse_sqrt_follows_its_formula():
    d_model, warmup, scale = 512, 40, 2.0
    build = lambda ls, opt: ls.WarmupInverseSqrtLR(opt, d_model=d_model, warmup_steps=warmup, scale=scale)  # noqa: E731
    seen, last = run(build, gg)
    for e, lrs in enumerate(seen):
        n = e + 1
        expected = [lr0 * scale * d_model**-0.5 * min(n**-0.5, n * warmup**-1.5) for lr0 in LRS]
        assert lrs == pytest.approx(expected, rel=1e-14)
        assert last[e] == lrs
    first = [lrs[0] for lrs in seen]
    assert max(first) == first[warmup - 1]  # peaks at step n = warmup_steps
    assert first[0] == pytest.approx(LRS[0] * scale * d_model**-0.5 * warmup**-1.5)
    assert gg.optim.lr_scheduler.NoamLR is gg.optim.lr_scheduler.WarmupInverseSqrtLR


def test_warmup_inverse_sqrt_equals_torch_lambda_lr_with_that_factor():
    ours, _ = run(lambda ls, opt: ls.WarmupInverseSqrtLR(opt, d_model=64, warmup_steps=25), gg)

    def noam(e):
        n = e + 1
        return 1.0 * 64**-0.5 * min(n**-0.5, n * 25**-1.5)

    theirs, _ = run(lambda ls, opt: ls.LambdaLR(opt, noam), torch)
    assert ours == theirs


RESUMABLE = ["StepLR", "CosineAnnealingLR-periods", "LambdaLR", "LinearLR-warmup",
             "SequentialLR-warmup-cosine", "ChainedScheduler"]


@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_round_trip_mid_schedule(name):
    build = SCHEDULES[name]
    straight, _ = run(build, gg)

    opt = make_optimizer(gg)
    sched = build(gg.optim.lr_scheduler, opt)
    for _ in range(100):
        opt.step()
        sched.step()
    opt_sd, sched_sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    opt2 = make_optimizer(gg)
    sched2 = build(gg.optim.lr_scheduler, opt2)  # build, then load, as PyTorch advises
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    resumed = []
    for _ in range(100):
        opt2.step()
        sched2.step()
        resumed.append([g["lr"] for g in opt2.param_groups])
    assert resumed == straight[101:]


def test_plateau_state_dict_round_trip():
    metrics = [float(m) for m in METRICS]
    straight, _ = run(lambda ls, opt: ls.ReduceLROnPlateau(opt, patience=5, factor=0.5), gg, metrics=metrics)
    opt = make_optimizer(gg)
    sched = gg.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=5, factor=0.5)
    for m in metrics[:100]:
        sched.step(m)
    sd_opt, sd = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    opt2 = make_optimizer(gg)
    sched2 = gg.optim.lr_scheduler.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(sd_opt)
    sched2.load_state_dict(sd)
    resumed = []
    for m in metrics[100:]:
        sched2.step(m)
        resumed.append([g["lr"] for g in opt2.param_groups])
    assert resumed == straight[101:]


def test_first_scheduler_records_initial_lr_and_base_lrs():
    opt = make_optimizer(gg)
    sched = gg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    assert sched.base_lrs == list(LRS)
    assert sched.last_epoch == 0


def test_step_with_an_epoch_uses_the_closed_form_as_torch():
    results = []
    for mod in (gg, torch):
        opt = make_optimizer(mod)
        sched = mod.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.step()
            sched.step(7)
        results.append(sched.get_last_lr())
    assert results[0] == results[1]
    assert results[0][0] == pytest.approx(0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * 7 / 10)) / 2)


def test_scheduler_step_before_optimizer_step_warns():
    opt = make_optimizer(gg)
    sched = gg.optim.lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    opt2 = make_optimizer(gg)
    sched2 = gg.optim.lr_scheduler.StepLR(opt2, step_size=2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_get_lr_outside_step_warns_to_use_get_last_lr():
    sched = gg.optim.lr_scheduler.ExponentialLR(make_optimizer(gg), gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_scheduler_errors():
    ls = gg.optim.lr_scheduler
    opt = make_optimizer(gg)
    with pytest.raises(TypeError, match="expected an Optimizer, got list"):
        ls.StepLR([1, 2], step_size=3)
    with pytest.raises(KeyError, match="initial_lr"):
        ls.StepLR(opt, step_size=3, last_epoch=5)
    with pytest.raises(ValueError, match="step_size to be a positive integer, got 0"):
        ls.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="expected 2 lr_lambdas .* got 3"):
        ls.LambdaLR(opt, [lambda e: 1.0] * 3)
    with pytest.raises(TypeError, match="lr_lambda should be a function, got float"):
        ls.LambdaLR(opt, 0.5)
    with pytest.raises(ValueError, match="start_factor in \\(0, 1\\], got 0"):
        ls.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="T_max > 0, got 0"):
        ls.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="factor < 1.0, got 1.5"):
        ls.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode 'min' or 'max', got 'lowest'"):
        ls.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="threshold_mode 'rel' or 'abs', got 'pct'"):
        ls.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs .* got 3"):
        ls.ReduceLROnPlateau(opt, min_lr=[0, 0, 0])
    with pytest.raises(ValueError, match="d_model > 0, got 0"):
        ls.WarmupInverseSqrtLR(opt, d_model=0)
    a, b = ls.ExponentialLR(opt, 0.9), ls.StepLR(opt, 3)
    with pytest.raises(ValueError, match="one milestone fewer than schedulers, got 2 schedulers and 2"):
        ls.SequentialLR(opt, [a, b], milestones=[3, 5])
    with pytest.raises(ValueError, match="does not support ReduceLROnPlateau"):
        ls.SequentialLR(opt, [a, ls.ReduceLROnPlateau(opt)], milestones=[3])
    with pytest.raises(ValueError, match="same optimizer"):
        ls.ChainedScheduler([a, ls.StepLR(make_optimizer(gg), 3)])
