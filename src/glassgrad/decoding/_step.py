"""The protocol between a decoder and the decoding algorithms: the step function, its state,
and the hypotheses they return.

A model is decoded through a function ``step(prefixes, state) -> (scores, state)``:

- ``prefixes``: an int64 tensor (rows, t), each row the tokens so far, starting with ``<bos>``.
  A Transformer decoder reads the whole prefix; an RNN needs only the last token,
  ``prefixes[:, -1]``, and carries the rest in its state.
  The prefixes are on the CPU; a model on a GPU moves them (``prefixes.to(device)``).
- ``state``: anything the model carries from one step to the next (an RNN's hidden state, the
  encoder's output for cross-attention), or ``None``. It is what the caller passed at the start,
  then what the step returned last time. Its rows follow the prefixes' rows: when the search drops
  a finished row or reorders beams, it reorders the state with ``reorder_state(state, index)``,
  which by default takes rows ``index`` along dim 0 of every tensor or array in the state (nested
  tuples, lists and dicts too). A state whose batch is not dim 0 (``nn.GRU``'s ``h`` is
  (layers, batch, hidden)) needs a ``reorder_state`` of its own, or a transpose in the step.
- ``scores``: a float tensor (rows, vocab) of logits or log-probabilities for the next token. The
  search applies ``log_softmax``, which leaves log-probabilities unchanged. A step that keeps no
  state may return the scores alone.

Decoding never needs gradients, so every step runs under ``no_grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassgrad._tensor import Tensor, tensor
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.functions.indexing import index_select

StepFn = Callable[[Tensor, Any], "tuple[Tensor, Any] | Tensor"]
ReorderFn = Callable[[Any, Tensor], Any]


@dataclass
class Hypothesis:
    """One decoded sequence: ``tokens`` are the generated ids (without ``<bos>``, ending with
    ``<eos>`` when ``finished``; an unfinished one stopped at the length limit), ``log_prob`` is
    the model's log-probability of them, and ``score`` what the search ranked by (``log_prob``
    divided by the length penalty in beam search, ``log_prob`` elsewhere)."""

    tokens: list[int]
    log_prob: float
    score: float
    finished: bool = field(default=True)


def reorder_state(state: Any, index: Tensor) -> Any:
    """``state`` with its rows (dim 0 of every tensor or array in it) taken at ``index``."""
    if state is None or isinstance(state, (int, float, str, bool)):
        return state
    if isinstance(state, Tensor):
        return index_select(state, 0, index.to(state.device))
    if isinstance(state, np.ndarray):
        return state[index.numpy()]
    if isinstance(state, tuple):
        rows = [reorder_state(s, index) for s in state]
        # a namedtuple (LSTM's (h, c) may come as one) is rebuilt as its own type
        return type(state)(*rows) if hasattr(state, "_fields") else tuple(rows)
    if isinstance(state, list):
        return [reorder_state(s, index) for s in state]
    if isinstance(state, dict):
        return {k: reorder_state(v, index) for k, v in state.items()}
    raise TypeError(
        f"reorder_state: cannot reorder rows of a state of type {type(state).__name__}; "
        "pass reorder_state=... to the search to say how"
    )


class _Stepper:
    """Calls the step function, checks what it returns, and turns its scores into log-probabilities."""

    def __init__(self, step: StepFn, state: Any, reorder: ReorderFn | None, eos_id: int, who: str):
        if not callable(step):
            raise TypeError(f"{who}: step must be a function step(prefixes, state) -> (scores, state), got {step!r}")
        self.step, self.state, self.eos_id, self.who = step, state, eos_id, who
        self.reorder = reorder_state if reorder is None else reorder
        self.vocab_size: int | None = None

    def __call__(self, prefixes: np.ndarray) -> np.ndarray:
        with no_grad():
            out = self.step(_long(prefixes), self.state)
        scores, self.state = out if isinstance(out, tuple) and len(out) == 2 else (out, self.state)
        if isinstance(scores, Tensor):
            scores = scores.detach().cpu().numpy()
        scores = np.asarray(scores, dtype=np.float64)
        rows = prefixes.shape[0]
        if scores.ndim != 2 or scores.shape[0] != rows or (self.vocab_size not in (None, scores.shape[1])):
            want = f"({rows}, vocab)" if self.vocab_size is None else f"({rows}, {self.vocab_size})"
            raise ValueError(f"{self.who}: step must return scores of shape {want}, got {tuple(scores.shape)}")
        self.vocab_size = scores.shape[1]
        if self.eos_id >= self.vocab_size:
            raise ValueError(
                f"{self.who}: eos_id={self.eos_id} is not a token of the step's vocabulary of {self.vocab_size}"
            )
        return _log_softmax(scores, self.who)

    def keep_rows(self, index: np.ndarray) -> None:
        self.state = self.reorder(self.state, _long(index))


def _long(a: np.ndarray) -> Tensor:
    return tensor(np.ascontiguousarray(a, dtype=np.int64))


def _log_softmax(x: np.ndarray, who: str) -> np.ndarray:
    top = x.max(axis=1, keepdims=True)
    if not np.isfinite(top).all():
        raise ValueError(f"{who}: the step's scores have a row with no finite value (every token impossible, or NaN)")
    shifted = x - top
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def check_common(bos_id: int, eos_id: int, max_len: int, who: str) -> None:
    for name, v in (("bos_id", bos_id), ("eos_id", eos_id)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"{who}: {name} must be a non-negative token id, got {v!r}")
    if not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"{who}: max_len must be a positive number of tokens, got {max_len!r}")
