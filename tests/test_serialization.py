"""gg.save / gg.load: round trips, safetensors interoperability, atomic writes, and clear errors
for truncated, corrupted and foreign files."""

import io
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import glassgrad as gg
from glassgrad.serialization import CheckpointError


def nested_state():
    w = gg.randn(4, 3)
    return {
        "model": {"fc1.weight": w, "fc1.bias": gg.zeros(3), "steps": gg.tensor(7),
                  "mask": gg.tensor([True, False])},
        "optimizer": {
            "state": {0: {"step": gg.tensor(3.0), "exp_avg": gg.randn(4, 3, dtype=gg.float64)}},
            "param_groups": [{"lr": 0.1 + 0.2, "betas": (0.9, 0.999), "params": [0], "nesterov": False}],
        },
        "epoch": 3,
        "history": {"loss": [1.5, 0.75], "val_acc": [0.5, float("nan")]},
        "rng": {"state": 2**127 + 12345, "inc": -(2**70), "np": np.arange(5, dtype=np.uint32)},
        "tied": w,
        "extras": [None, "text", -math.inf, math.inf, (1, (2, "x")), gg.float64, np.float32(0.25)],
        (1, "a"): "tuple key",
        2.5: "float key",
        "__tensor__": "a key that looks like a marker",
        "empty": np.zeros((0, 4), np.float32),
        "grad": gg.ones(2, requires_grad=True),
    }


def assert_same(a, b):
    if isinstance(a, gg.Tensor):
        assert isinstance(b, gg.Tensor) and a.dtype == b.dtype and a.shape == b.shape
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b)
    elif isinstance(a, np.generic):
        assert b == a.item() and type(b) is type(a.item())
    else:
        assert type(a) is type(b) and a == b


def test_round_trip_of_a_nested_state(tmp_path):
    state = nested_state()
    path = tmp_path / "ckpt.safetensors"
    gg.save(state, path)
    loaded = gg.load(path)
    assert_same(state, loaded)
    assert loaded["tied"] is loaded["model"]["fc1.weight"]  # one tensor saved twice stays one
    assert loaded["optimizer"]["param_groups"][0]["lr"] == 0.1 + 0.2  # floats are exact
    loaded["model"]["fc1.bias"].add_(1.0)  # loaded tensors are writable
    loaded["empty"][...] = 0


@pytest.mark.parametrize("obj", [gg.arange(5.0), gg.tensor(2.5), 3, "s", None, [1, gg.ones(1)], {}, []])
def test_round_trip_of_simple_objects(tmp_path, obj):
    gg.save(obj, tmp_path / "x")
    assert_same(obj, gg.load(tmp_path / "x"))


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    gg.save({"w": gg.randn(2)}, buffer)
    buffer.seek(0)
    assert gg.load(buffer)["w"].shape == (2,)
    with open(tmp_path / "f.st", "wb") as f:
        gg.save([1, 2], f)
    with open(tmp_path / "f.st", "rb") as f:
        assert gg.load(f, map_location="cpu", weights_only=True) == [1, 2]


def test_state_dict_file_is_readable_by_torch_and_back(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    state = {k: gg.tensor(v.detach().numpy()) for k, v in model.state_dict().items()}
    gg.save(state, tmp_path / "model.safetensors")
    theirs = safetensors.torch.load_file(tmp_path / "model.safetensors")
    assert list(sorted(theirs)) == sorted(model.state_dict())
    for k, v in model.state_dict().items():
        assert torch.equal(theirs[k], v)
    # a plain safetensors file written by PyTorch's tools loads as a flat dict of tensors
    safetensors.torch.save_file(model.state_dict(), tmp_path / "torch.safetensors")
    ours = gg.load(tmp_path / "torch.safetensors")
    assert sorted(ours) == sorted(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(ours[k].numpy(), v.numpy())


def test_unsupported_objects_name_their_place(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object at model.layers.1"):
        gg.save({"model": {"layers": [gg.ones(1), object()]}}, tmp_path / "x")
    with pytest.raises(TypeError, match="cannot store a set at the top level"):
        gg.save({1, 2}, tmp_path / "x")
    with pytest.raises(TypeError, match="dtype <U1 at a"):
        gg.save({"a": np.array(["s"])}, tmp_path / "x")
    with pytest.raises(TypeError, match="keys must be"):
        gg.save({gg.ones(1): 1}, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert os.listdir(tmp_path) == []


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        gg.save({}, tmp_path / "no" / "x")
    with pytest.raises(FileNotFoundError):
        gg.load(tmp_path / "absent")


# -- atomic writes -----------------------------------------------------------------------------


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    gg.save({"epoch": 1, "w": gg.ones(1000)}, path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk on fire"):
        gg.save({"epoch": 2, "w": gg.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt"]
    assert gg.load(path)["epoch"] == 1


def test_kill_during_saves_never_leaves_a_broken_file(tmp_path):
    """A process saving a 4 MB checkpoint in a loop is SIGKILLed at several moments; the file
    must always load, as the state of some completed save."""
    path = tmp_path / "ckpt"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1] / "src")!r})
        import glassgrad as gg
        print("ready", flush=True)
        epoch = 0
        while True:
            epoch += 1
            gg.save({{"epoch": epoch, "w": gg.full((1_000_000,), float(epoch))}}, {str(path)!r})
    """)
    for delay in (0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        if path.exists():
            state = gg.load(path)
            assert (state["w"].numpy() == state["epoch"]).all()
    assert path.exists()


# -- unreadable files --------------------------------------------------------------------------


def small_checkpoint(tmp_path) -> Path:
    path = tmp_path / "small.ckpt"
    gg.save({"w": gg.randn(3, 4), "b": gg.zeros(4, dtype=gg.float64), "step": 9, "cfg": {"lr": 0.01}}, path)
    return path


def test_every_truncation_is_refused(tmp_path):
    path = small_checkpoint(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.ckpt"
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="cannot load .*cut.ckpt"):
            gg.load(cut)


def test_truncated_large_checkpoint_is_refused(tmp_path):
    path = tmp_path / "big.ckpt"
    gg.save({"model": {f"layer{i}.weight": gg.randn(100, 100) for i in range(10)}, "epoch": 1}, path)
    data = path.read_bytes()
    for n in (0, 4, 8, 100, len(data) // 3, len(data) // 2, len(data) - 1):
        cut = tmp_path / f"cut{n}.ckpt"
        cut.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match=f"cannot load .*cut{n}.ckpt"):
            gg.load(cut)


def test_every_changed_byte_is_detected(tmp_path):
    path = small_checkpoint(tmp_path)
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    bad = tmp_path / "flipped.ckpt"
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= int(rng.integers(1, 256))
        bad.write_bytes(bytes(changed))
        with pytest.raises(CheckpointError, match="cannot load .*flipped.ckpt"):
            gg.load(bad)


def test_corruption_message_says_checksum(tmp_path):
    path = small_checkpoint(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # inside the last tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the checksum"):
        gg.load(path)


def test_foreign_and_random_files_are_refused(tmp_path):
    rng = np.random.default_rng(1)
    files = {
        "random.bin": rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(),
        "empty.bin": b"",
        "text.txt": b"epoch,loss\n1,0.5\n",
        "json.json": b'{"model": {"w": [1, 2]}}',
        "pickle.pkl": pickle.dumps({"w": [1.0]}),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("a", "b")
    for name in [*files, "other.zip"]:
        with pytest.raises(CheckpointError, match=f"cannot load .*{name}") as info:
            gg.load(tmp_path / name)
        if name == "pickle.pkl":
            assert "bare pickle" in str(info.value)
        if name == "other.zip":
            assert "without a data.pkl record" in str(info.value)


def test_newer_format_version_is_refused(tmp_path):
    from glassgrad import serialization

    arrays = {"w": np.zeros(2, np.float32)}
    structure = '{"w":{"__tensor__":"w"}}'
    metadata = {"format": "glassgrad", "glassgrad.version": "99", "glassgrad.structure": structure,
                "glassgrad.sha256": serialization._digest("99", structure, arrays)}
    (tmp_path / "new.ckpt").write_bytes(safetensors.numpy.save(arrays, metadata=metadata))
    with pytest.raises(CheckpointError, match="format version 99"):
        gg.load(tmp_path / "new.ckpt")
