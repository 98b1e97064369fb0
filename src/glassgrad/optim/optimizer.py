"""``Optimizer``: the base class of every optimizer (parameter groups, state, checkpoints).

An optimizer holds

- ``param_groups``: a list of dicts, each with its ``params`` (leaf tensors) and its own options
  (``lr``, ``momentum``, ...); an option a group does not give is filled in from ``defaults``;
- ``state``: a dict from parameter to that parameter's buffers, under PyTorch's names
  (``momentum_buffer``, ``exp_avg``, ``step`` ...).

``step()`` is the same for every optimizer: for each parameter that has a ``.grad``, it creates
the parameter's state on first use (``_init_state``), applies the update rule (``_update``) to
the parameter's array in place, and bumps the parameter's version counter. A subclass writes only
its rule: ``_update`` (and ``_init_state`` if it keeps buffers), on NumPy arrays, in place, reading
the gradient without ever changing it.
"""

from __future__ import annotations

import copy
import functools
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassgrad import _backend
from glassgrad._backend import array_module
from glassgrad._dtype import get_default_dtype
from glassgrad._tensor import Tensor
from glassgrad.autograd.grad_mode import enable_grad

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors (e.g. ``model.parameters()``), of ``(name, tensor)``
    pairs (``model.named_parameters()``), or of dicts, one per parameter group, each with a
    ``"params"`` entry and any options that differ from ``defaults``::

        SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-2}], lr=1e-3)
    """

    def __init_subclass__(cls, **kwargs):
        # ``Optimizer.step`` notes that the optimizer has stepped (a learning rate scheduler uses
        # this to warn when its step() is called before the optimizer's); a subclass that writes
        # its own ``step`` instead of an ``_update`` gets it wrapped to note the same.
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_notes_call", False):

            @functools.wraps(step)
            def noted_step(self, *args, **kwargs):
                self._step_called = True
                return step(self, *args, **kwargs)

            noted_step._notes_call = True
            cls.step = noted_step

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._check_options(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_called = False
        self._scratch: dict = {}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of tensors or of dicts (parameter groups), "
                "got a single Tensor; pass a list: [tensor]"
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{name}: params should be an iterable of tensors or of dicts (parameter groups), "
                "got a dict; pass a list of groups: [group]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{name} got an empty parameter list; expected at least one tensor to optimize "
                "(does the model register its parameters?)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- options --------------------------------------------------------------------------------

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise a clear error for an invalid option. Subclasses extend this."""
        if "lr" in options:
            self._check_number("lr", options["lr"], "a learning rate >= 0", low=0.0)

    def _check_number(self, name: str, value, expected: str, low: float | None = None,
                      high: float | None = None, high_open: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"{type(self).__name__}: {name} should be a real number ({expected}), "
                f"got {type(value).__name__} {value!r}"
            )
        if (low is not None and not value >= low) or (
            high is not None and not (value < high if high_open else value <= high)
        ):
            raise ValueError(f"{type(self).__name__}: invalid {name}: expected {expected}, got {value!r}")

    # -- parameter groups -----------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. to train layers unfrozen later)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group should be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(
                f"{name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: parameters should be in an ordered collection (a list), got a set, whose "
                "order changes between runs"
            )
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: either all parameters or none should come with names")
        index = len(self.param_groups)
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{name} can only optimize Tensors, but parameter {i} of group {index} is a "
                    f"{type(p).__name__}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(
                    f"{name} can't optimize a non-leaf tensor: parameter {i} of group {index} was "
                    f"computed by {p.grad_fn.name()}; optimize the leaf tensors it was computed "
                    "from, or make it a leaf with .detach().requires_grad_()"
                )
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        self._check_options(param_group)

        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn(f"{name}: a parameter group holds the same tensor twice", stacklevel=3)
        for group in self.param_groups:
            if any(id(p) in ids for p in group["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")
            if ("param_names" in group) != bool(names):
                raise ValueError(f"{name}: either all parameter groups or none should have parameter names")
        self.param_groups.append(param_group)

    # -- gradients ------------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set every ``.grad`` to None (the default), or to zeros.

        The zeros are a new tensor rather than the old ``.grad`` overwritten, so that nothing that
        still holds the old gradient sees it change.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        g = p.grad._data
                        p.grad = Tensor._wrap(array_module(g).zeros_like(g), False)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient once, by the optimizer's rule (see its class
        docstring). ``closure`` (optional) re-evaluates the model and returns the loss, which
        ``step`` returns."""
        self._step_called = True
        loss = self._run_closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = self.state.get(p)
                if not state:  # the first step (or a loaded state dict had none for p)
                    state = self._init_state(p._data, group)
                    if state is not None:
                        self.state[p] = state
                self._update(p._data, grad._data, state, group)
                p._bump_version()
        return loss

    def _init_state(self, param, group: dict[str, Any]) -> dict[str, Any] | None:
        """A parameter's state before its first update: a new dict of its buffers (PyTorch's
        names), or None when the rule keeps no state for this group. The default keeps none."""
        return None

    def _update(self, param, grad, state: dict[str, Any] | None, group: dict[str, Any]) -> None:
        """The update rule: change the array ``param`` in place, given its gradient array
        ``grad`` (never changed), its ``state`` (None if it keeps none) and its group's options."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update()")

    def _run_closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _direction(param, grad, maximize: bool, weight_decay: float):
        """The gradient the update rule uses: ``-grad`` when maximizing, plus ``weight_decay *
        param`` (an L2 penalty). Returns ``grad`` itself when neither applies, else a new array:
        ``p.grad`` is never changed."""
        if maximize:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        return grad

    def _scratch_like(self, a):
        """A temporary array of ``a``'s shape and dtype, reused by every parameter and step, so
        that an update allocates no memory (its contents are garbage on entry)."""
        key = (type(a), a.dtype)
        buf = self._scratch.get(key)
        if buf is None or buf.size < a.size:
            buf = array_module(a).empty(a.size, a.dtype)
            self._scratch[key] = buf
        return buf[: a.size].reshape(a.shape)

    @staticmethod
    def _zeros_like(a) -> Tensor:
        """A state buffer: a tensor of zeros like the array ``a``."""
        return Tensor._wrap(array_module(a).zeros_like(a), False)

    @staticmethod
    def _new_step_counter() -> Tensor:
        """``state['step']``: a 0-d float tensor counting the updates (float64 when that is the
        default dtype, else float32), as in PyTorch. It stays on the CPU whatever the parameter's
        device, as PyTorch keeps it: the update reads it as a Python number every step."""
        dt = get_default_dtype().numpy
        return Tensor._wrap(np.zeros((), dt), False)

    @staticmethod
    def _increment(counter: Tensor) -> float:
        """Add one to a step counter in place and return its new value."""
        counter._data += 1
        return float(counter._data)

    # -- checkpoints ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout: ``{"state": {index: {...}}, "param_groups":
        [{..., "params": [index, ...]}]}``, parameters numbered in group order from 0.

        As in PyTorch the state's tensors are the live ones: save the dict right away, or
        ``copy.deepcopy`` it to keep a snapshot in memory.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: options of each group and each parameter's buffers, matched
        by position. Buffers are copied (cast to their parameter's dtype), so training on does not
        change the dict that was loaded."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has {len(saved['params'])} "
                    f"parameters in the state dict, {len(group['params'])} in this optimizer"
                )
            by_index.update(zip(saved["params"], group["params"]))

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            p = by_index.get(key)
            if p is None:
                state[key] = copy.deepcopy(value)
            else:
                state[p] = {k: _copy_state_value(v, p, k) for k, v in value.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names"))
        lines.append(")")
        return "\n".join(lines)


def _copy_state_value(value, param: Tensor, key: str):
    """A copy of one saved state entry; buffers take the parameter's device and float buffers its
    dtype, as in PyTorch (but not the step counter, which keeps its own and stays on the CPU)."""
    if key == "step" and not isinstance(value, Tensor):
        return Tensor._wrap(np.asarray(float(value), get_default_dtype().numpy), False)  # on the CPU
    if isinstance(value, Tensor):
        data = value._data
        if key != "step" and data.dtype.kind == "f":
            data = data.astype(param._data.dtype)
        else:
            data = data.copy()
        if key != "step":
            data = _backend.to_device(data, param.device)
        return Tensor._wrap(data, False)
    return copy.deepcopy(value)
