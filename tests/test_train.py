"""gg.train.fit and evaluate on scikit-learn's digits: training works, matches a hand-written loop
bit for bit, resumes bitwise (after a clean stop or a crash mid-epoch), early stopping, best
weights, schedulers, progress bar, and argument errors."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.optim import SGD, Adam
from glassgrad.optim.lr_scheduler import ReduceLROnPlateau, StepLR
from glassgrad.train import History, accuracy, evaluate, fit
from glassgrad.utils.data import DataLoader, TensorDataset

# -- data and set-up ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    order = np.random.default_rng(0).permutation(len(x))
    train, val = order[:1400], order[1400:]
    return TensorDataset(gg.tensor(x[train]), gg.tensor(y[train])), TensorDataset(gg.tensor(x[val]), gg.tensor(y[val]))


def setup(digits, seed=0, loader_seed=1, lr=0.05, scheduler=None, dropout=0.2, optimizer="sgd"):
    """Model, optimizer, scheduler and loaders, built as a training script would build them."""
    gg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 10))
    if optimizer == "sgd":
        opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    else:
        opt = Adam(model.parameters(), lr=lr / 10)
    sched = None if scheduler is None else scheduler(opt)
    train_set, val_set = digits
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=gg.Generator(loader_seed))
    val_loader = DataLoader(val_set, batch_size=100)
    return model, opt, sched, train_loader, val_loader


def weights(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


# -- training ----------------------------------------------------------------------------------


def test_fit_learns_digits_and_records_history(digits):
    model, opt, _, train_loader, val_loader = setup(digits)
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=6,
                  metrics={"acc": accuracy}, progress=False)
    assert isinstance(history, History) and history.epochs == 6
    assert set(history) == {"loss", "acc", "val_loss", "val_acc", "lr"}
    assert all(len(v) == 6 for v in history.values())
    assert history["loss"][-1] < history["loss"][0] / 3
    assert history["val_acc"][-1] > 0.9
    # the recorded validation values are evaluate()'s
    result = evaluate(model, val_loader, F.cross_entropy, {"acc": accuracy})
    assert result == {"loss": history["val_loss"][-1], "acc": history["val_acc"][-1]}
    assert model.training  # fit leaves the model as training left it; evaluate restored it


def test_fit_is_the_hand_written_loop(digits):
    """Same seeds: fit and the textbook loop reach identical weights and the same mean loss."""
    model, opt, _, train_loader, _ = setup(digits)
    history = fit(model, opt, F.cross_entropy, train_loader, epochs=2, progress=False)

    model2, opt2, _, train_loader2, _ = setup(digits)
    for _ in range(2):
        model2.train()
        total, count = 0.0, 0
        for x, y in train_loader2:
            opt2.zero_grad()
            loss = F.cross_entropy(model2(x), y)
            loss.backward()
            opt2.step()
            total, count = total + loss.item() * len(y), count + len(y)
    assert_bitwise_equal(weights(model), weights(model2))
    assert history["loss"][-1] == pytest.approx(total / count, rel=1e-12)


def test_evaluate(digits):
    model, _, _, _, val_loader = setup(digits)
    x, y = digits[1].tensors
    model.eval()
    with gg.no_grad():
        out = model(x)
    model.train()
    result = evaluate(model, val_loader, F.cross_entropy, {"acc": accuracy})
    assert result["loss"] == pytest.approx(F.cross_entropy(out, y).item(), rel=1e-5)
    assert result["acc"] == pytest.approx(accuracy(out, y), rel=1e-12)
    assert model.training
    assert evaluate(model, val_loader, metrics={"acc": accuracy}).keys() == {"acc"}
    with pytest.raises(ValueError, match="needs a loss_fn or at least one metric"):
        evaluate(model, val_loader)


# -- resume ------------------------------------------------------------------------------------


def full_run(digits, epochs, **kw):
    model, opt, sched, train_loader, val_loader = setup(digits, scheduler=kw.pop("scheduler", None),
                                                        optimizer=kw.pop("optimizer", "sgd"))
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=epochs,
                  metrics={"acc": accuracy}, scheduler=sched, progress=False, **kw)
    return weights(model), history


def resumed_run(digits, path, epochs, **kw):
    """A fresh process: new objects, other seeds (everything must come from the checkpoint)."""
    model, opt, sched, train_loader, val_loader = setup(digits, seed=99, loader_seed=98,
                                                        scheduler=kw.pop("scheduler", None),
                                                        optimizer=kw.pop("optimizer", "sgd"))
    kw.setdefault("resume", path)
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=epochs,
                  metrics={"acc": accuracy}, scheduler=sched, progress=False, **kw)
    return weights(model), history


def step_lr(opt):
    return StepLR(opt, step_size=2, gamma=0.5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_resume_is_bitwise_identical(digits, tmp_path, optimizer):
    expected, expected_history = full_run(digits, 4, scheduler=step_lr, optimizer=optimizer)
    path = tmp_path / "run.ckpt"
    full_run(digits, 2, scheduler=step_lr, optimizer=optimizer, checkpoint=path)
    got, history = resumed_run(digits, path, 4, scheduler=step_lr, optimizer=optimizer, checkpoint=path)
    assert_bitwise_equal(expected, got)
    assert history == expected_history
    lr = 0.05 if optimizer == "sgd" else 0.005
    assert history["lr"] == [lr, lr, lr / 2, lr / 2]
    state = gg.load(path)
    assert state["epoch"] == 4 and state["history"] == dict(expected_history)


class CrashError(Exception):
    pass


def crashing_loss(after_calls):
    calls = [0]

    def loss_fn(output, target):
        calls[0] += 1
        if calls[0] > after_calls:
            raise CrashError
        return F.cross_entropy(output, target)

    return loss_fn


def test_resume_after_a_crash_mid_epoch(digits, tmp_path):
    expected, _ = full_run(digits, 4, scheduler=step_lr)
    path = tmp_path / "run.ckpt"
    model, opt, sched, train_loader, val_loader = setup(digits, scheduler=step_lr)
    batches_per_epoch = len(train_loader) + len(val_loader)
    with pytest.raises(CrashError):  # dies in the middle of epoch 3
        fit(model, opt, crashing_loss(2 * batches_per_epoch + 20), train_loader, val_loader, epochs=4,
            metrics={"acc": accuracy}, scheduler=sched, checkpoint=path, progress=False)
    assert gg.load(path)["epoch"] == 2
    got, history = resumed_run(digits, path, 4, scheduler=step_lr, checkpoint=path)
    assert_bitwise_equal(expected, got)
    assert history.epochs == 4


def test_resume_after_a_crash_in_a_callback(digits, tmp_path):
    expected, _ = full_run(digits, 3)
    path = tmp_path / "run.ckpt"

    def die_after_epoch_2(epoch, history):
        if epoch == 2:
            raise CrashError

    model, opt, _, train_loader, val_loader = setup(digits)
    with pytest.raises(CrashError):
        fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=3, metrics={"acc": accuracy},
            checkpoint=path, progress=False, callbacks=[die_after_epoch_2])
    got, _ = resumed_run(digits, path, 3)
    assert_bitwise_equal(expected, got)


def test_resume_true_starts_fresh_without_a_checkpoint(digits, tmp_path):
    path = tmp_path / "auto.ckpt"
    expected, _ = full_run(digits, 2)
    got, _ = full_run(digits, 2, checkpoint=path, resume=True)  # no file yet: a fresh run
    assert_bitwise_equal(expected, got)
    got, history = resumed_run(digits, path, 2, checkpoint=path, resume=True)  # done already
    assert_bitwise_equal(expected, got)
    assert history.epochs == 2


# -- early stopping, best weights, schedulers --------------------------------------------------


def test_early_stopping(digits, tmp_path):
    # lr = 0: nothing changes, so after epoch 1 the val loss never improves
    model, opt, _, train_loader, val_loader = setup(digits, lr=0.0, dropout=0.0)
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=20, patience=3,
                  progress=False, checkpoint=tmp_path / "c")
    assert history.epochs == 4
    # the stop is part of the checkpoint: resuming does not train on
    model, opt, _, train_loader, val_loader = setup(digits, lr=0.0, dropout=0.0)
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=20, patience=3,
                  progress=False, resume=tmp_path / "c")
    assert history.epochs == 4


def test_early_stopping_max_mode_and_min_delta(digits):
    model, opt, _, train_loader, val_loader = setup(digits)
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=8, metrics={"acc": accuracy},
                  monitor="val_acc", patience=1, min_delta=1.0, progress=False)  # nothing beats +1.0
    assert history.epochs == 2


def test_restore_best_weights(digits):
    snapshots = {}
    model, opt, _, train_loader, val_loader = setup(digits, lr=0.5)  # a large lr: val loss goes up and down

    def snapshot(epoch, history):
        snapshots[epoch] = weights(model)

    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=6, restore_best=True,
                  progress=False, callbacks=[snapshot])
    best_epoch = int(np.argmin(history["val_loss"])) + 1
    assert best_epoch != 6, "the test needs a run whose last epoch is not the best"
    assert_bitwise_equal(weights(model), snapshots[best_epoch])


def test_plateau_scheduler_gets_the_monitored_value(digits):
    """ReduceLROnPlateau is stepped with val_loss: its learning rates are torch's for that sequence."""
    model, opt, sched, train_loader, val_loader = setup(
        digits, lr=0.5, scheduler=lambda o: ReduceLROnPlateau(o, factor=0.5, patience=0))
    history = fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=6, scheduler=sched, progress=False)
    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    torch_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, factor=0.5, patience=0)
    expected = []
    for val_loss in history["val_loss"]:
        expected.append(torch_opt.param_groups[0]["lr"])
        torch_sched.step(val_loss)
    assert history["lr"] == expected
    assert len(set(expected)) > 1, "the test needs a run where the plateau scheduler acts"


def test_batch_interval_scheduler(digits):
    model, opt, _, train_loader, _ = setup(digits)
    sched = StepLR(opt, step_size=1, gamma=0.999)
    fit(model, opt, F.cross_entropy, train_loader, epochs=2, scheduler=sched, scheduler_interval="batch",
        progress=False)
    assert sched.last_epoch == 2 * len(train_loader)


def test_progress_bar(digits, capsys):
    model, opt, _, train_loader, val_loader = setup(digits)
    fit(model, opt, F.cross_entropy, train_loader, val_loader, epochs=1, metrics={"acc": accuracy})
    err = capsys.readouterr().err
    assert "Epoch 1/1" in err and "val_acc=" in err and f"{len(train_loader)}/{len(train_loader)}" in err
    fit(model, opt, F.cross_entropy, train_loader, epochs=1, progress=False)
    assert capsys.readouterr().err == ""


# -- errors ------------------------------------------------------------------------------------


def test_bad_arguments(digits, tmp_path):
    model, opt, sched, train_loader, val_loader = setup(digits)

    def run(**kw):
        args = {"epochs": 1, "progress": False, **kw}
        return fit(model, opt, F.cross_entropy, train_loader, **args)

    with pytest.raises(ValueError, match="epochs should be a non-negative integer, got -1"):
        run(epochs=-1)
    with pytest.raises(ValueError, match="monitor='val_loss' is not recorded.*\\['loss'\\]"):
        run(monitor="val_loss")
    with pytest.raises(ValueError, match="cannot tell whether 'score' should go up or down"):
        run(metrics={"score": accuracy}, monitor="score")
    with pytest.raises(ValueError, match="mode should be 'min', 'max' or 'auto'"):
        run(mode="up")
    with pytest.raises(ValueError, match="patience should be a positive integer"):
        run(patience=0)
    with pytest.raises(ValueError, match="scheduler_interval"):
        run(scheduler_interval="step")
    with pytest.raises(ValueError, match="metric name 'val_acc' is reserved"):
        run(metrics={"val_acc": accuracy})
    with pytest.raises(TypeError, match="metrics should map names to functions"):
        run(metrics={"acc": 1})
    with pytest.raises(TypeError, match=r"batch to be a sequence \(inputs..., target\)"):
        fit(model, opt, F.cross_entropy, [gg.ones(2)], epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_loader produced no batches"):
        fit(model, opt, F.cross_entropy, [], epochs=1, progress=False)
    with pytest.raises(ValueError, match="resume=True .* checkpoint is None"):
        run(resume=True)
    gg.save({"model": {}}, tmp_path / "other")
    with pytest.raises(ValueError, match="is not a checkpoint written by fit"):
        run(resume=tmp_path / "other")
    run(checkpoint=tmp_path / "ck")
    with pytest.raises(ValueError, match="written without a scheduler"):
        run(resume=tmp_path / "ck", scheduler=StepLR(opt, 1, 0.5))
    other_loader = DataLoader(digits[0], batch_size=32, shuffle=True)  # shuffles with the default generator
    with pytest.raises(ValueError, match="state of 1 loader generator.*shuffle with 0"):
        fit(model, opt, F.cross_entropy, other_loader, epochs=2, progress=False, resume=tmp_path / "ck")
