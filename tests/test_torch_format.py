"""gg.load of torch.save files: every dtype, views and shared storages, nested containers, a real
model's state dict, and clear errors for malicious, corrupt and legacy files (nothing runs)."""

import collections
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

import glassgrad as gg
from glassgrad.serialization import CheckpointError


def saved(tmp_path, obj, name="x.pt", **kwargs):
    path = tmp_path / name
    torch.save(obj, path, **kwargs)
    return path


def rewrite(path, change):
    """Rewrite the zip at ``path`` with ``change(records)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(path) as z:
        records = {n: z.read(n) for n in z.namelist()}
    records = change(records)
    with zipfile.ZipFile(path, "w") as z:
        for n, data in records.items():
            z.writestr(n, data)
    return path


def pickle_name(records):
    return next(n for n in records if n.endswith("/data.pkl"))


# -- values and dtypes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "torch_dtype, expected",
    [
        (torch.float32, gg.float32),
        (torch.float64, gg.float64),
        (torch.float16, gg.float32),
        (torch.bfloat16, gg.float32),
        (torch.int64, gg.int64),
        (torch.int32, gg.int32),
        (torch.int16, gg.int32),
        (torch.int8, gg.int32),
        (torch.uint8, gg.uint8),
        (torch.bool, gg.bool),
    ],
)
def test_each_dtype_loads_exactly(tmp_path, torch_dtype, expected):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(3, 5, generator=g) * 50).to(torch_dtype)
    if torch_dtype == torch.uint8:
        x = torch.randint(0, 256, (3, 5), generator=g, dtype=torch.uint8)
    loaded = gg.load(saved(tmp_path, {"x": x}))["x"]
    assert loaded.dtype == expected and loaded.shape == (3, 5)
    want = x.float() if torch_dtype in (torch.float16, torch.bfloat16) else x  # the exact widening
    np.testing.assert_array_equal(loaded.numpy(), want.numpy().astype(expected.numpy))


def test_bfloat16_keeps_values_that_float16_cannot_hold(tmp_path):
    x = torch.tensor([1e30, -3.0e-30, 0.1, float("inf")], dtype=torch.bfloat16)
    loaded = gg.load(saved(tmp_path, x))
    np.testing.assert_array_equal(loaded.numpy(), x.float().numpy())


def test_zero_dim_and_empty_tensors(tmp_path):
    obj = {"scalar": torch.tensor(2.5, dtype=torch.float64), "empty": torch.zeros(0, 4), "long": torch.tensor(7)}
    loaded = gg.load(saved(tmp_path, obj))
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 2.5
    assert loaded["empty"].shape == (0, 4)
    assert loaded["long"].dtype == gg.int64 and loaded["long"].item() == 7


# -- views and shared storages -------------------------------------------------------------------


def test_non_contiguous_views_load_with_their_layout(tmp_path):
    base = torch.arange(60.0).reshape(3, 4, 5)
    views = {
        "transpose": base.transpose(0, 2),
        "slice": base[1:, ::2, 3:],
        "offset": base[2, 1],
        "expand": torch.arange(3.0)[:, None].expand(3, 4),
        "permute": base.permute(1, 2, 0),
    }
    loaded = gg.load(saved(tmp_path, views))
    for key, view in views.items():
        np.testing.assert_array_equal(loaded[key].numpy(), view.numpy(), err_msg=key)
    # the sliced view was saved with the whole storage, and loads as a view into it
    assert not loaded["slice"].numpy().flags.c_contiguous


def test_views_of_one_storage_share_memory_as_in_torch(tmp_path):
    w = torch.arange(12.0).reshape(3, 4)
    obj = {"w": w, "t": w.t(), "row": w[1], "flat": w.view(-1), "same": w}
    loaded = gg.load(saved(tmp_path, obj))
    assert loaded["same"] is loaded["w"]  # one tensor saved twice is one tensor
    for key in ("t", "row", "flat"):
        assert np.shares_memory(loaded[key].numpy(), loaded["w"].numpy()), key
    with gg.no_grad():
        loaded["w"][1, 2] = -1.0  # a change through one view shows in the others, as in torch
    w[1, 2] = -1.0
    for key in ("t", "row", "flat"):
        np.testing.assert_array_equal(loaded[key].numpy(), obj[key].numpy())


def test_separate_storages_do_not_share(tmp_path):
    loaded = gg.load(saved(tmp_path, [torch.ones(3), torch.ones(3)]))
    assert not np.shares_memory(loaded[0].numpy(), loaded[1].numpy())


def test_tied_weights_in_a_state_dict_stay_tied(tmp_path):
    emb = torch.nn.Embedding(5, 3)
    head = torch.nn.Linear(3, 5, bias=False)
    head.weight = emb.weight
    sd = torch.nn.ModuleDict({"emb": emb, "head": head}).state_dict()
    loaded = gg.load(saved(tmp_path, sd))
    assert np.shares_memory(loaded["emb.weight"].numpy(), loaded["head.weight"].numpy())


# -- containers and other values -----------------------------------------------------------------


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_nested_containers_and_plain_values(tmp_path, protocol):
    obj = {
        "layers": [torch.ones(2), (torch.zeros(1, dtype=torch.int64), "name")],
        "meta": {"epoch": 3, "lr": 0.5, "ok": True, "none": None, 7: "int key", "big": 2**70},
        "size": torch.Size([2, 3]),
        "dtype": torch.float64,
        "device": torch.device("cpu"),
        "bytes": b"\x00\xffraw",
        "set": {1, 2},
    }
    loaded = gg.load(saved(tmp_path, obj, pickle_protocol=protocol))
    np.testing.assert_array_equal(loaded["layers"][0].numpy(), [1.0, 1.0])
    assert isinstance(loaded["layers"][1], tuple) and loaded["layers"][1][1] == "name"
    assert loaded["meta"] == obj["meta"]
    assert loaded["size"] == (2, 3) and loaded["dtype"] is gg.float64 and loaded["device"] == gg.device("cpu")
    assert loaded["bytes"] == b"\x00\xffraw" and loaded["set"] == {1, 2}


def test_parameters_and_requires_grad(tmp_path):
    obj = {"p": torch.nn.Parameter(torch.ones(2)), "frozen": torch.nn.Parameter(torch.ones(2), requires_grad=False),
           "leaf": torch.ones(2, requires_grad=True), "plain": torch.ones(2)}
    loaded = gg.load(saved(tmp_path, obj))
    assert [loaded[k].requires_grad for k in obj] == [True, False, True, False]


def test_state_dict_is_an_ordered_dict_with_torch_metadata(tmp_path):
    sd = torch.nn.Linear(2, 3).state_dict()
    loaded = gg.load(saved(tmp_path, sd))
    assert isinstance(loaded, collections.OrderedDict) and list(loaded) == ["weight", "bias"]
    assert loaded._metadata == sd._metadata


def test_a_value_glassgrad_cannot_rebuild_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match=r"rebuilding a value with device failed.*'mps'"):
        gg.load(saved(tmp_path, {"device": torch.device("mps")}))


def test_file_objects_and_map_location(tmp_path):
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(2)}, buffer)
    buffer.seek(0)
    assert gg.load(buffer, map_location="cpu", weights_only=True)["w"].shape == (2,)


def test_big_endian_files(tmp_path):
    x = torch.arange(6, dtype=torch.float64).reshape(2, 3)

    def to_big_endian(records):
        prefix = pickle_name(records)[: -len("data.pkl")]
        records[prefix + "byteorder"] = b"big"
        records[prefix + "data/0"] = x.numpy().astype(">f8").tobytes()
        return records

    path = rewrite(saved(tmp_path, {"x": x}), to_big_endian)
    np.testing.assert_array_equal(gg.load(path)["x"].numpy(), x.numpy())


# -- a real model --------------------------------------------------------------------------------


def test_a_torch_models_state_dict_runs_the_same_in_glassgrad(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 10),
    )
    net.train()
    net(torch.randn(8, 1, 8, 8))  # moves the batch-norm running statistics away from 0 and 1
    net.eval()
    ours = gg.nn.Sequential(
        gg.nn.Conv2d(1, 4, 3, padding=1), gg.nn.BatchNorm2d(4), gg.nn.ReLU(), gg.nn.MaxPool2d(2),
        gg.nn.Flatten(), gg.nn.Linear(4 * 4 * 4, 10),
    )
    ours.load_state_dict(gg.load(saved(tmp_path, net.state_dict(), "net.pth")))
    ours.eval()
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(gg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)


def test_a_torch_transformer_runs_the_same_in_glassgrad(tmp_path):
    torch.manual_seed(0)

    def layer(lib):
        return lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True)

    net = torch.nn.TransformerEncoder(layer(torch), 2).eval()
    ours = gg.nn.TransformerEncoder(layer(gg), 2).eval()
    ours.load_state_dict(gg.load(saved(tmp_path, net.state_dict(), "encoder.pt")))
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(gg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)


def test_an_optimizer_state_dict_loads(tmp_path):
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    loaded = gg.load(saved(tmp_path, {"model": model.state_dict(), "optimizer": opt.state_dict()}))
    groups = loaded["optimizer"]["param_groups"]
    assert groups[0]["betas"] == (0.9, 0.999) and groups[0]["params"] == [0, 1]
    np.testing.assert_array_equal(loaded["optimizer"]["state"][0]["exp_avg"].numpy(),
                                  opt.state_dict()["state"][0]["exp_avg"].numpy())


# -- malicious files: a clear error, and nothing runs --------------------------------------------


class _RunsAShellCommand:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


class _Evaluates:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def with_pickle(tmp_path, payload: bytes):
    """A genuine torch.save file whose data.pkl is replaced by ``payload``."""

    def replace(records):
        records[pickle_name(records)] = payload
        return records

    return rewrite(saved(tmp_path, {"w": torch.ones(2)}, "evil.pt"), replace)


def test_a_reduce_that_calls_os_system_is_refused_and_nothing_runs(tmp_path):
    sentinel = tmp_path / "ran"
    payload = pickle.dumps({"w": _RunsAShellCommand(sentinel)}, protocol=2)
    pickle.loads(payload)  # the payload works: plain pickle runs it
    assert sentinel.exists()
    sentinel.unlink()
    with pytest.raises(CheckpointError, match=r"global (posix|os|nt)\.system.*ran nothing"):
        gg.load(with_pickle(tmp_path, payload))
    assert not sentinel.exists()


@pytest.mark.parametrize("protocol", [2, 4])
def test_other_forbidden_globals_name_themselves(tmp_path, protocol):
    with pytest.raises(CheckpointError, match=r"builtins\.eval"):
        gg.load(with_pickle(tmp_path, pickle.dumps([_Evaluates()], protocol=protocol)))


def test_a_whole_pickled_model_is_refused_with_advice(tmp_path):
    path = saved(tmp_path, torch.nn.Linear(2, 2), "model.pt")
    with pytest.raises(CheckpointError, match=r"global torch\.nn\.modules\.linear\.Linear.*save model\.state_dict\(\)"):
        gg.load(path)


def test_a_class_instance_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match=r"global collections\.Counter"):
        gg.load(with_pickle(tmp_path, pickle.dumps(collections.Counter("ab"), protocol=2)))


def test_calling_an_allowed_value_that_is_not_a_constructor_is_refused(tmp_path):
    # GLOBAL torch float32, then REDUCE: a dtype is allowed as a value, never as a function
    payload = b"\x80\x02ctorch\nfloat32\n)R."
    with pytest.raises(CheckpointError, match="not one of the allowed constructors"):
        gg.load(with_pickle(tmp_path, payload))


def test_opcodes_that_build_objects_are_refused(tmp_path):
    payload = b"(ccollections\nOrderedDict\no."  # OBJ: instantiate a class from the stack
    with pytest.raises(CheckpointError, match="opcode OBJ"):
        gg.load(with_pickle(tmp_path, payload))


def test_build_cannot_set_attributes_on_loaded_objects(tmp_path):
    # an OrderedDict, then BUILD with {"update": 1}: only torch's _metadata may be set
    payload = b"\x80\x02ccollections\nOrderedDict\n)R}X\x06\x00\x00\x00updateK\x01sb."
    with pytest.raises(CheckpointError, match="sets the state of a OrderedDict"):
        gg.load(with_pickle(tmp_path, payload))


# -- corrupt and foreign files -------------------------------------------------------------------


def test_truncated_archive(tmp_path):
    path = saved(tmp_path, {"w": torch.ones(100)})
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="damaged zip archive"):
            gg.load(path)


def test_missing_storage_record(tmp_path):
    path = rewrite(saved(tmp_path, {"a": torch.ones(2), "b": torch.zeros(3)}),
                   lambda r: {n: d for n, d in r.items() if not n.endswith("data/1")})
    with pytest.raises(CheckpointError, match=r"record '.*data/1' is missing"):
        gg.load(path)


def test_storage_record_too_short(tmp_path):
    path = rewrite(saved(tmp_path, {"a": torch.ones(4)}),
                   lambda r: {n: (d[:6] if n.endswith("data/0") else d) for n, d in r.items()})
    with pytest.raises(CheckpointError, match="holds 6 bytes, but 4 elements of FloatStorage need 16"):
        gg.load(path)


def test_changed_bytes_fail_the_zip_checksum(tmp_path):
    path = saved(tmp_path, {"a": torch.arange(64.0)})
    data = bytearray(path.read_bytes())
    at = data.index(torch.arange(64.0).numpy().tobytes()[8:16])  # inside the storage record
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        gg.load(path)


def test_truncated_pickle(tmp_path):
    path = rewrite(saved(tmp_path, {"a": torch.ones(2)}),
                   lambda r: {n: (d[: len(d) // 2] if n.endswith("data.pkl") else d) for n, d in r.items()})
    with pytest.raises(CheckpointError, match="truncated or malformed"):
        gg.load(path)


def test_a_view_past_the_end_of_its_storage(tmp_path):
    # the storage's element count (BININT1 3 before TUPLE) made 2, viewed as size (3,): a crafted
    # layout must not read outside its storage
    def shrink(records):
        records[pickle_name(records)] = records[pickle_name(records)].replace(b"K\x03t", b"K\x02t", 1)
        return records

    path = rewrite(saved(tmp_path, {"a": torch.ones(3)}), shrink)
    with pytest.raises(CheckpointError, match="reaches past the end of storage"):
        gg.load(path)


def test_legacy_format_is_refused_with_advice(tmp_path):
    path = saved(tmp_path, {"w": torch.ones(2)}, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="legacy format.*save it again"):
        gg.load(path)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated, and still writes these
def test_torchscript_archive_is_named(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(CheckpointError, match="TorchScript archive"):
        gg.load(path)


def test_saving_still_writes_safetensors(tmp_path):
    gg.save({"w": gg.ones(2)}, tmp_path / "ours.pt")
    assert not zipfile.is_zipfile(tmp_path / "ours.pt")
    assert gg.load(tmp_path / "ours.pt")["w"].shape == (2,)
