"""Every optimizer and option against torch.optim: 100 steps of a small MLP from the same start,
gradients computed in each library, same parameters and state (float64, rtol 1e-10)."""

import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

import glassgrad as gg
import glassgrad.nn.functional as F

_rng = np.random.default_rng(0)
X = _rng.standard_normal((16, 5))
Y = _rng.integers(0, 3, 16)
INIT = [_rng.standard_normal(s) * 0.5 for s in [(8, 5), (8,), (3, 8), (3,)]]
RTOL, ATOL = 1e-10, 1e-13


class Lib:
    """One library's side of a comparison: its tensors, loss and optimizers."""

    def __init__(self, mod):
        self.mod = mod
        self.x = mod.tensor(X)
        self.y = mod.tensor(Y)
        self.F = F if mod is gg else torch.nn.functional

    def params(self, values=INIT):
        return [self.mod.tensor(v.copy(), requires_grad=True) for v in values]

    def loss(self, params):
        w1, b1, w2, b2 = params
        h = self.F.relu(self.F.linear(self.x, w1, b1))
        return self.F.cross_entropy(self.F.linear(h, w2, b2), self.y)

    def optimizer(self, name, params, groups, options):
        if groups is None:
            spec = params
        else:
            spec = [{"params": [params[i] for i in idx], **opts} for idx, opts in groups]
        return getattr(self.mod.optim, name)(spec, **options)

    def train(self, opt, params, steps):
        for _ in range(steps):
            opt.zero_grad()
            self.loss(params).backward()
            opt.step()


GG, TORCH = Lib(gg), Lib(torch)


def as_np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t._data)


def assert_params_close(gg_params, torch_params):
    for i, (a, b) in enumerate(zip(gg_params, torch_params)):
        np.testing.assert_allclose(as_np(a), as_np(b), rtol=RTOL, atol=ATOL, err_msg=f"parameter {i}")


def assert_state_matches(gg_opt, torch_opt):
    """Same state keys (PyTorch's names) per parameter index, same values."""
    sd_g, sd_t = gg_opt.state_dict(), torch_opt.state_dict()
    assert sd_g["state"].keys() == sd_t["state"].keys()
    for i, st in sd_t["state"].items():
        assert sd_g["state"][i].keys() == st.keys(), f"state of parameter {i}"
        for key, value in st.items():
            np.testing.assert_allclose(as_np(sd_g["state"][i][key]), as_np(value), rtol=RTOL, atol=ATOL,
                                       err_msg=f"state[{i}][{key!r}]")
    assert [g["params"] for g in sd_g["param_groups"]] == [g["params"] for g in sd_t["param_groups"]]
    for g_group, t_group in zip(sd_g["param_groups"], sd_t["param_groups"]):
        for key, value in g_group.items():
            assert t_group[key] == value, key


def compare(name, options, groups=None, steps=100):
    p_g, p_t = GG.params(), TORCH.params()
    opt_g = GG.optimizer(name, p_g, groups, options)
    opt_t = TORCH.optimizer(name, p_t, groups, options)
    GG.train(opt_g, p_g, steps)
    TORCH.train(opt_t, p_t, steps)
    assert not np.allclose(as_np(p_g[0]), INIT[0])  # the run did move the parameters
    assert_params_close(p_g, p_t)
    assert_state_matches(opt_g, opt_t)


def combos(**choices):
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


def _label(opts):
    return ",".join(f"{k}={v}" for k, v in opts.items())


SGD_CASES = [
    o for o in combos(lr=[0.05], momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True],
                      weight_decay=[0, 0.05], maximize=[False, True])
    if not o["nesterov"] or (o["momentum"] > 0 and o["dampening"] == 0)
]
ADAM_CASES = combos(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0, 0.1],
                    amsgrad=[False, True], maximize=[False, True])
ADAGRAD_CASES = combos(lr=[0.1], lr_decay=[0, 0.01], weight_decay=[0, 0.1],
                       initial_accumulator_value=[0, 0.5], eps=[1e-10, 1e-3], maximize=[False, True])
RMSPROP_CASES = combos(lr=[0.01], alpha=[0.99, 0.9], centered=[False, True], momentum=[0, 0.9],
                       weight_decay=[0, 0.1], maximize=[False, True])


@pytest.mark.parametrize("options", SGD_CASES, ids=_label)
def test_sgd_matches_torch(options):
    compare("SGD", options)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("options", ADAM_CASES, ids=_label)
def test_adam_matches_torch(name, options):
    compare(name, options)


def test_adam_with_decoupled_weight_decay_matches_torch():
    compare("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True))


@pytest.mark.parametrize("options", ADAGRAD_CASES, ids=_label)
def test_adagrad_matches_torch(options):
    compare("Adagrad", options)


@pytest.mark.parametrize("options", RMSPROP_CASES, ids=_label)
def test_rmsprop_matches_torch(options):
    compare("RMSprop", options)


GROUP_CASES = {
    "SGD": (dict(lr=0.1, momentum=0.5),
            [([0, 1], {"lr": 0.05, "momentum": 0.9, "nesterov": True}), ([2, 3], {"weight_decay": 0.1})]),
    "Adam": (dict(lr=0.01),
             [([0, 1], {"lr": 0.02, "amsgrad": True}),
              ([2, 3], {"betas": (0.8, 0.99), "weight_decay": 0.1})]),
    "AdamW": (dict(lr=0.01),
              [([0, 3], {"weight_decay": 0.3}), ([1, 2], {"lr": 0.003, "maximize": True})]),
    "Adagrad": (dict(lr=0.1, initial_accumulator_value=0.1),
                [([0, 1], {"lr_decay": 0.01}), ([2, 3], {"lr": 0.05, "weight_decay": 0.1})]),
    "RMSprop": (dict(lr=0.01),
                [([0, 1], {"centered": True, "momentum": 0.5}), ([2, 3], {"alpha": 0.9, "lr": 0.005})]),
}


@pytest.mark.parametrize("name", list(GROUP_CASES))
def test_param_groups_with_different_options_match_torch(name):
    options, groups = GROUP_CASES[name]
    compare(name, options, groups)


STATEFUL_CASES = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True),
    "Adam": dict(lr=0.01, amsgrad=True),
    "AdamW": dict(lr=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01),
    "RMSprop": dict(lr=0.01, centered=True, momentum=0.5),
}


@pytest.mark.parametrize("name", list(STATEFUL_CASES))
def test_state_dict_round_trip_mid_run(name):
    options = STATEFUL_CASES[name]
    groups = [([0, 1], {}), ([2, 3], {"lr": options["lr"] / 2})]
    params = GG.params()
    straight = GG.optimizer(name, params, groups, options)
    GG.train(straight, params, 50)

    # the checkpoint has PyTorch's layout, with the same contents as torch's after 50 steps
    p_t = TORCH.params()
    opt_t = TORCH.optimizer(name, p_t, groups, options)
    TORCH.train(opt_t, p_t, 50)
    assert_state_matches(straight, opt_t)

    saved = pickle.loads(pickle.dumps(copy.deepcopy(straight.state_dict())))
    resumed_params = GG.params([as_np(p).copy() for p in params])
    resumed = GG.optimizer(name, resumed_params, [(idx, {}) for idx, _ in groups], {})  # default options
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lr"] == options["lr"] / 2
    assert resumed.param_groups[0]["params"][0] is resumed_params[0]
    GG.train(straight, params, 50)
    GG.train(resumed, resumed_params, 50)
    for a, b in zip(params, resumed_params):
        np.testing.assert_array_equal(as_np(a), as_np(b))
    # the loaded state was copied: training on did not change the checkpoint
    for key, value in saved["state"][0].items():
        assert as_np(value) is not as_np(resumed.state[resumed_params[0]][key])


def test_loaded_state_takes_the_parameter_dtype():
    p = gg.zeros(3, requires_grad=True)  # float32
    opt = gg.optim.Adam([p])
    state = {0: {"step": gg.tensor(4.0), "exp_avg": gg.ones(3, dtype=gg.float64),
                 "exp_avg_sq": gg.ones(3, dtype=gg.float64)}}
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[p]["exp_avg"].dtype == gg.float32
    assert opt.state[p]["step"].item() == 4.0


def test_load_state_dict_of_another_shape_is_refused():
    opt = gg.optim.SGD(GG.params(), lr=0.1)
    other = gg.optim.SGD(GG.params()[:2], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters in the state dict, 4"):
        opt.load_state_dict(other.state_dict())
    two_groups = gg.optim.SGD([{"params": GG.params()[:2]}, {"params": GG.params()[2:]}], lr=0.1)
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        opt.load_state_dict(two_groups.state_dict())


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    opt_g = gg.optim.Adagrad(GG.params(), initial_accumulator_value=0.3)
    opt_t = torch.optim.Adagrad(TORCH.params(), initial_accumulator_value=0.3)
    assert_state_matches(opt_g, opt_t)


def test_adagrad_honours_a_group_initial_accumulator_value():
    # torch.optim.Adagrad fills every group's "sum" with the constructor's value and ignores a
    # group's own; glassgrad uses the group's, as for every other group option
    params = GG.params()
    opt = gg.optim.Adagrad([{"params": params[:2]}, {"params": params[2:], "initial_accumulator_value": 0.7}],
                           initial_accumulator_value=0.1)
    assert np.all(as_np(opt.state[params[0]]["sum"]) == 0.1)
    assert np.all(as_np(opt.state[params[3]]["sum"]) == 0.7)


def test_float32_parameters_match_torch_loosely():
    values = [v.astype(np.float32) for v in INIT]
    x = X.astype(np.float32)
    results = []
    for lib, mod in ((GG, gg), (TORCH, torch)):
        params = lib.params(values)
        opt = mod.optim.Adam(params, lr=0.01, weight_decay=0.01)
        for _ in range(20):
            opt.zero_grad()
            w1, b1, w2, b2 = params
            h = lib.F.relu(lib.F.linear(mod.tensor(x), w1, b1))
            lib.F.cross_entropy(lib.F.linear(h, w2, b2), lib.y).backward()
            opt.step()
        assert params[0].dtype == mod.float32
        results.append([as_np(p) for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(STATEFUL_CASES))
def test_step_changes_parameters_in_place_and_never_the_gradient(name):
    params = GG.params()
    opt = getattr(gg.optim, name)(params, **STATEFUL_CASES[name], weight_decay=0.1)
    for _ in range(2):  # the second step takes the with-state paths
        opt.zero_grad()
        GG.loss(params).backward()
        arrays = [p._data for p in params]
        grads = [p.grad for p in params]
        grad_copies = [p.grad._data.copy() for p in params]
        versions = [p._version for p in params]
        opt.step()
        for p, a, g, g0, v in zip(params, arrays, grads, grad_copies, versions):
            assert p._data is a  # updated in place
            assert p._version == v + 1
            assert p.grad is g
            np.testing.assert_array_equal(p.grad._data, g0)


def test_parameters_without_gradient_are_skipped_as_in_torch():
    results = []
    for lib in (GG, TORCH):
        params = lib.params()
        unused = lib.mod.tensor(np.ones(3), requires_grad=True)
        opt = lib.mod.optim.Adam(params + [unused], lr=0.01)
        lib.train(opt, params, 5)
        assert unused not in opt.state
        results.append((params, as_np(unused)))
    assert_params_close(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], np.ones(3))


def test_zero_grad():
    params = GG.params()
    opt = gg.optim.SGD(params, lr=0.1)
    GG.loss(params).backward()
    old = params[0].grad
    old_values = old._data.copy()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad._data == 0) for p in params)
    np.testing.assert_array_equal(old._data, old_values)  # a new tensor; the old one is untouched
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_closure_returns_its_loss_and_records_the_graph():
    results = []
    for lib in (GG, TORCH):
        params = lib.params()
        opt = lib.mod.optim.SGD(params, lr=0.1, momentum=0.9)

        def closure(lib=lib, params=params, opt=opt):
            opt.zero_grad()
            loss = lib.loss(params)
            loss.backward()
            return loss

        with lib.mod.no_grad():  # the closure runs with grad mode on regardless
            losses = [opt.step(closure).item() for _ in range(10)]
        results.append((losses, params))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=RTOL)
    assert_params_close(results[0][1], results[1][1])


def test_add_param_group_mid_training_matches_torch():
    results = []
    for lib in (GG, TORCH):
        params = lib.params()
        opt = lib.mod.optim.Adagrad(params[:2], lr=0.1)
        lib.train(opt, params, 10)
        opt.add_param_group({"params": params[2:], "lr": 0.05})
        lib.train(opt, params, 10)
        assert opt.param_groups[1]["lr_decay"] == 0  # defaults filled in
        results.append(params)
    assert_params_close(*results)


def test_named_parameters_are_accepted():
    params = GG.params()
    opt = gg.optim.SGD([("w1", params[0]), ("b1", params[1])], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w1", "b1"]
    assert opt.param_groups[0]["params"][1] is params[1]


def test_repr_lists_each_group_and_its_options():
    params = GG.params()
    opt = gg.optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1, momentum=0.9)
    text = repr(opt)
    assert text.startswith("SGD (")
    assert "Parameter Group 0\n" in text and "Parameter Group 1\n" in text
    assert "    lr: 0.1\n" in text and "    lr: 0.5\n" in text and "    momentum: 0.9\n" in text
    assert "params" not in text
