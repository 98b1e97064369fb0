"""Teacher forcing and scheduled sampling (Bengio et al. 2015, "Scheduled Sampling for Sequence
Prediction with Recurrent Neural Networks").

With teacher forcing a decoder is trained on the gold previous token at every step, but at test
time it reads its own predictions, which may be wrong in ways it never saw in training. Scheduled
sampling closes that gap: each gold input is replaced by the model's own prediction with
probability ``p``, and ``p`` grows during training from 0 (teacher forcing) towards 1 (the
model's own outputs, as at test time) on a schedule.

Here the probability of using the model's prediction is ``p``; the paper writes ``epsilon_i =
1 - p`` for the probability of using the gold token at training step ``i``.
"""

from __future__ import annotations

import math

from glassgrad._backend import array_module, asarray_like
from glassgrad._random import Generator, _generator_of
from glassgrad._tensor import Tensor, tensor
from glassgrad.functions.math import where


def teacher_forcing(sequences: Tensor) -> tuple[Tensor, Tensor]:
    """``(decoder_inputs, targets)`` of gold sequences ``<bos> y1 ... yn <eos> <pad>...`` of shape
    (..., T): the inputs drop the last token and the targets drop ``<bos>``, so at every step the
    decoder reads the gold previous token and learns to predict the next one."""
    _check_ids(sequences, "teacher_forcing", "sequences")
    if sequences.ndim == 0 or sequences.shape[-1] < 2:
        raise ValueError(f"teacher_forcing: sequences need at least 2 tokens along the last dim, got {sequences.shape}")
    return sequences[..., :-1], sequences[..., 1:]


def scheduled_sampling(
    decoder_inputs: Tensor,
    predictions: Tensor,
    p: float,
    pad_id: int | None = None,
    generator: Generator | None = None,
) -> Tensor:
    """The decoder inputs with each gold token replaced by the model's prediction of it, with
    probability ``p`` (independently per token), for a decoder that reads a whole sequence at
    once (a Transformer, or an RNN run over all steps).

    ``decoder_inputs`` (..., T) are the teacher-forcing inputs (from :func:`teacher_forcing`).
    ``predictions`` come from a teacher-forced pass of the same model, aligned with the outputs:
    ``predictions[..., t]`` is the model's guess of the token after ``decoder_inputs[..., t]``,
    either as ids (..., T) or as scores (..., T, vocab), whose argmax is taken. So input ``t``
    may become ``predictions[..., t - 1]``; input 0 (``<bos>``) is always kept, and so is every
    ``pad_id``, so padding masks stay right. No gradient flows through the choice.

    A training step: ``logits = model(src, inp)``; ``mixed = scheduled_sampling(inp,
    logits.detach(), p)``; ``loss = criterion(model(src, mixed), targets)``.
    """
    _check_ids(decoder_inputs, "scheduled_sampling", "decoder_inputs")
    predicted = _as_ids(predictions, decoder_inputs.shape, "scheduled_sampling")
    gold = decoder_inputs._data
    # predictions[..., t-1] proposes the input at t; input 0 has no earlier prediction
    proposed = array_module(gold).concatenate([gold[..., :1], predicted[..., :-1]], axis=-1)
    return _mix(gold, proposed, p, pad_id, generator, decoder_inputs, "scheduled_sampling")


def scheduled_sampling_step(
    gold: Tensor,
    predicted: Tensor,
    p: float,
    pad_id: int | None = None,
    generator: Generator | None = None,
) -> Tensor:
    """One step of a decoder run step by step (an RNN loop): the input of this step is the gold
    token ``gold`` (batch,), or with probability ``p`` the model's output of the previous step
    ``predicted`` (ids (batch,), or scores (batch, vocab) whose argmax is taken)."""
    _check_ids(gold, "scheduled_sampling_step", "gold")
    proposed = _as_ids(predicted, gold.shape, "scheduled_sampling_step")
    return _mix(gold._data, proposed, p, pad_id, generator, gold, "scheduled_sampling_step")


def _mix(gold, proposed, p, pad_id, generator, like: Tensor, who: str) -> Tensor:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{who}: p must be a probability in [0, 1], got {p}")
    # drawn on the CPU by glassgrad's generator (reproducible), then moved to the data's device
    use_model = asarray_like(_generator_of(generator).bernoulli(p, gold.shape), gold)
    if pad_id is not None:
        use_model &= gold != pad_id
    return where(tensor(use_model, device=like.device), tensor(proposed, device=like.device), like.detach())


def _check_ids(x, who: str, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{who}: {name} must be a tensor of token ids, got {type(x).__name__}")
    if x._data.dtype.kind not in "iu":
        raise TypeError(f"{who}: {name} must hold integer token ids, got {x.dtype}")


def _as_ids(predictions, shape, who: str):
    """Token ids of ``shape`` as an array: the ids themselves, or the argmax of scores (shape + (vocab,))."""
    if not isinstance(predictions, Tensor):
        raise TypeError(f"{who}: predictions must be a tensor, got {type(predictions).__name__}")
    a = predictions.detach()._data
    if a.dtype.kind in "iu" and tuple(a.shape) == tuple(shape):
        return a
    if a.dtype.kind == "f" and tuple(a.shape[:-1]) == tuple(shape):
        return a.argmax(-1)
    raise ValueError(
        f"{who}: predictions must be ids of shape {tuple(shape)} or float scores of shape {tuple(shape)} + "
        f"(vocab,), got {predictions.dtype} of shape {tuple(a.shape)}"
    )


class SamplingSchedule:
    """A schedule for scheduled sampling: ``schedule(i)`` is ``p``, the probability of feeding the
    model's own prediction at training step (or epoch) ``i``, and ``schedule.teacher_forcing_prob(i)``
    is the paper's ``epsilon_i = 1 - p``, the probability of feeding the gold token."""

    def teacher_forcing_prob(self, i: int) -> float:
        raise NotImplementedError

    def __call__(self, i: int) -> float:
        if i < 0:
            raise ValueError(f"{type(self).__name__}: the step i must be non-negative, got {i}")
        return 1.0 - self.teacher_forcing_prob(i)


class LinearDecay(SamplingSchedule):
    """``epsilon_i = max(epsilon, k - c * i)``: the gold-token probability falls linearly from
    ``k`` by ``c`` per step down to the floor ``epsilon`` (0 <= epsilon < 1)."""

    def __init__(self, c: float, k: float = 1.0, epsilon: float = 0.0):
        if not 0.0 <= epsilon < 1.0 or not 0.0 < k <= 1.0 or c < 0.0:
            raise ValueError(f"LinearDecay: need 0 <= epsilon < 1, 0 < k <= 1, c >= 0; got {epsilon=}, {k=}, {c=}")
        self.c, self.k, self.epsilon = c, k, epsilon

    def teacher_forcing_prob(self, i: int) -> float:
        return max(self.epsilon, self.k - self.c * i)


class ExponentialDecay(SamplingSchedule):
    """``epsilon_i = k ** i`` with ``k < 1``: the gold-token probability shrinks by the factor ``k`` each step."""

    def __init__(self, k: float):
        if not 0.0 < k < 1.0:
            raise ValueError(f"ExponentialDecay: k must be in (0, 1), got {k}")
        self.k = k

    def teacher_forcing_prob(self, i: int) -> float:
        return self.k**i


class InverseSigmoidDecay(SamplingSchedule):
    """``epsilon_i = k / (k + exp(i / k))`` with ``k >= 1``: the gold-token probability stays
    near 1 at first, falls fastest around ``i = k log k``, then tends to 0; larger ``k`` is slower."""

    def __init__(self, k: float):
        if not k >= 1.0:
            raise ValueError(f"InverseSigmoidDecay: k must be at least 1, got {k}")
        self.k = k

    def teacher_forcing_prob(self, i: int) -> float:
        x = i / self.k
        # k / (k + e^x) written as k e^-x / (k e^-x + 1), which cannot overflow for large i
        return self.k * math.exp(-x) / (self.k * math.exp(-x) + 1.0)
