"""Bad arguments to an optimizer give a clear error naming what was expected and what was given."""

import pytest

import glassgrad as gg
from glassgrad.optim import SGD, Adagrad, Adam, AdamW, RMSprop

ALL = [SGD, Adagrad, Adam, AdamW, RMSprop]


def leaf():
    return gg.zeros(3, requires_grad=True)


@pytest.mark.parametrize("cls", ALL)
def test_no_parameters(cls):
    message = f"{cls.__name__} got an empty parameter list; expected at least one"
    with pytest.raises(ValueError, match=message):
        cls([])


@pytest.mark.parametrize("cls", ALL)
def test_negative_learning_rate(cls):
    with pytest.raises(ValueError, match=r"invalid lr: expected a learning rate >= 0, got -0.1"):
        cls([leaf()], lr=-0.1)


@pytest.mark.parametrize("cls", ALL)
def test_negative_learning_rate_of_a_group(cls):
    with pytest.raises(ValueError, match=r"invalid lr: expected a learning rate >= 0, got -1"):
        cls([{"params": [leaf()]}, {"params": [leaf()], "lr": -1}])


@pytest.mark.parametrize("cls", ALL)
def test_learning_rate_that_is_not_a_number(cls):
    message = r"lr should be a real number \(a learning rate >= 0\), got str '0.1'"
    with pytest.raises(TypeError, match=message):
        cls([leaf()], lr="0.1")


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("betas, message", [
    ((1.0, 0.999), r"invalid betas\[0\]: expected betas\[0\] in \[0, 1\), got 1.0"),
    ((0.9, -0.1), r"invalid betas\[1\]: expected betas\[1\] in \[0, 1\), got -0.1"),
    ((0.9,), r"betas should be a pair \(beta1, beta2\), got \(0.9,\)"),
])
def test_invalid_betas(cls, betas, message):
    with pytest.raises(ValueError, match=message):
        cls([leaf()], betas=betas)


@pytest.mark.parametrize("cls, option, value, expected", [
    (SGD, "momentum", -0.5, "momentum >= 0"),
    (RMSprop, "momentum", -0.5, "momentum >= 0"),
    (RMSprop, "alpha", -0.1, "alpha >= 0"),
    (Adam, "eps", -1e-8, "eps >= 0"),
    (Adagrad, "eps", -1e-10, "eps >= 0"),
    (RMSprop, "eps", -1e-8, "eps >= 0"),
    (SGD, "weight_decay", -1, "weight_decay >= 0"),
    (AdamW, "weight_decay", -1, "weight_decay >= 0"),
    (Adagrad, "lr_decay", -1, "lr_decay >= 0"),
    (Adagrad, "initial_accumulator_value", -1, "initial_accumulator_value >= 0"),
])
def test_invalid_option(cls, option, value, expected):
    message = f"{cls.__name__}: invalid {option}: expected {expected}, got {value}"
    with pytest.raises(ValueError, match=message):
        cls([leaf()], **{option: value})


@pytest.mark.parametrize("options", [dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(options):
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0 and dampening = 0, got momentum="):
        SGD([leaf()], lr=0.1, **options)


@pytest.mark.parametrize("cls", ALL)
def test_non_tensor_parameter(cls):
    message = f"{cls.__name__} can only optimize Tensors, but parameter 1 of group 0 is a list"
    with pytest.raises(TypeError, match=message):
        cls([leaf(), [1.0, 2.0]])


@pytest.mark.parametrize("cls", ALL)
def test_non_leaf_parameter(cls):
    x = leaf()
    with pytest.raises(ValueError, match=f"{cls.__name__} can't optimize a non-leaf tensor: parameter 0 of "
                                         "group 0 was computed by"):
        cls([x * 2])


def test_params_given_as_one_tensor_a_set_or_a_dict():
    with pytest.raises(TypeError, match="got a single Tensor; pass a list"):
        SGD(leaf())
    with pytest.raises(TypeError, match="ordered collection .* got a set"):
        SGD([{"params": {leaf()}}])
    with pytest.raises(TypeError, match="got a dict; pass a list of groups"):
        SGD({"params": [leaf()]})


def test_group_without_params_and_overlapping_groups():
    with pytest.raises(ValueError, match="a parameter group needs a 'params' entry, got keys \\['lr'\\]"):
        SGD([{"lr": 0.1}])
    x = leaf()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        SGD([{"params": [x]}, {"params": [x]}])
    opt = SGD([x])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [x]})
    with pytest.raises(TypeError, match="a parameter group should be a dict, got list"):
        opt.add_param_group([leaf()])


def test_duplicate_parameter_in_a_group_warns():
    x = leaf()
    with pytest.warns(UserWarning, match="the same tensor twice"):
        SGD([x, x])
