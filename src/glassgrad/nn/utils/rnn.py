"""Batches of sequences of different lengths for the recurrent layers, as ``torch.nn.utils.rnn``.

- ``pad_sequence`` stacks sequences into one padded tensor [L, B, *] ([B, L, *] batch_first).
- ``pack_padded_sequence`` keeps only the real steps, time step after time step: the rows of
  step t are the sequences longer than t, longest first, and ``batch_sizes[t]`` counts them.
  A recurrent layer given a ``PackedSequence`` runs each step on just those rows, so padding
  never reaches the final states.
- ``pad_packed_sequence`` undoes it; ``pack_sequence`` packs a list of sequences.

Each conversion is one gather of rows (one indexing op), so gradients flow to any order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from glassgrad._tensor import Tensor, tensor
from glassgrad.functions.array import cat

_INT = np.int64


class PackedSequence(NamedTuple):
    """Packed rows ``data`` [sum(lengths), *], ``batch_sizes`` (int64, how many sequences are
    still going at each step), and for a batch that was not sorted by decreasing length the
    permutation that sorted it (``sorted_indices``) and its inverse (``unsorted_indices``)."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def _index_tensor(a, device=None) -> Tensor:
    """Indices computed on the host, as an int64 tensor on ``device`` (that of the rows they pick)."""
    return tensor(np.asarray(a, dtype=_INT), device=device)


def _lengths_array(lengths, op: str) -> np.ndarray:
    if isinstance(lengths, Tensor):
        lengths = lengths.tolist()
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"{op}: expected lengths as a 1-D sequence of ints, got {lengths!r}")
    return arr.astype(_INT)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences [L_i, *] (same trailing dims) into [max L, B, *] (``batch_first``:
    [B, max L, *]), filling with ``padding_value`` after each sequence (``padding_side='left'``:
    before it)."""
    op = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if s.ndim == 0 or tuple(s.shape[1:]) != trailing:
            shapes = ", ".join(str(tuple(q.shape)) for q in sequences)
            raise RuntimeError(f"{op}: every sequence must be [L_i, *] with the same trailing dims, got "
                               f"shapes {shapes}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=_INT)
    longest, total = int(lengths.max()), int(lengths.sum())
    pad_row = tensor(np.full((1, *trailing), padding_value), dtype=sequences[0].dtype, device=sequences[0].device)
    rows = cat([*sequences, pad_row], 0)  # the pad row is the last one, number `total`
    # index[b, t]: the row of step t of sequence b, or the pad row
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(longest)[None, :]
    if padding_side == "left":
        t = t - (longest - lengths)[:, None]
    index = np.where((t >= 0) & (t < lengths[:, None]), starts[:, None] + t, total)
    return rows[_index_tensor(index if batch_first else index.T, rows.device)]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch [L, B, *] ([B, L, *] ``batch_first``) whose sequence b has
    ``lengths[b]`` real steps. With ``enforce_sorted`` the lengths must be decreasing; otherwise
    the batch is sorted here and the permutation kept, so that ``pad_packed_sequence`` and the
    recurrent layers give results in the original order."""
    op = "pack_padded_sequence"
    lens = _lengths_array(lengths, op)
    if not isinstance(input, Tensor) or input.ndim < 2:
        got = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ValueError(f"{op}: expected a padded input of at least 2 dims, got {got}")
    batch = input.shape[0 if batch_first else 1]
    steps = input.shape[1 if batch_first else 0]
    if len(lens) != batch:
        raise ValueError(f"{op}: expected {batch} lengths for an input of shape {tuple(input.shape)} "
                         f"(batch_first={batch_first}), got {len(lens)}")
    if batch and (lens.min() <= 0 or lens.max() > steps):
        raise RuntimeError(f"{op}: every length must be in 1..{steps} for an input of shape "
                           f"{tuple(input.shape)}, got lengths {lens.tolist()}")
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError(f"{op}: lengths must be sorted in decreasing order when enforce_sorted=True, "
                               f"got {lens.tolist()}; pass enforce_sorted=False to have them sorted")
        order = np.arange(batch)
        sorted_indices = unsorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = _index_tensor(order, input.device)
        unsorted_indices = _index_tensor(np.argsort(order), input.device)
    sorted_lens = lens[order]
    batch_sizes = (sorted_lens[None, :] > np.arange(int(sorted_lens[0]))[:, None]).sum(1)
    # row (t, k) of the packed data is step t of sequence order[k], for k < batch_sizes[t]
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    k = np.concatenate([np.arange(b) for b in batch_sizes])
    b = order[k]
    flat = input.reshape(-1, *input.shape[2:])
    data = flat[_index_tensor(b * steps + t if batch_first else t * batch + b, input.device)]
    # batch_sizes stay on the CPU, as in PyTorch: they are read as numbers, step by step
    return PackedSequence(data, _index_tensor(batch_sizes), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: (padded [T, B, *] or [B, T, *], lengths), in the original
    batch order, with T the longest length or ``total_length`` (at least that)."""
    op = "pad_packed_sequence"
    data, batch_sizes = sequence.data, np.asarray(sequence.batch_sizes.tolist(), dtype=_INT)
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{op}: expected total_length to be at least the length of the longest "
                             f"sequence ({steps}), got total_length={total_length}")
        steps = total_length
    # sorted position k has length #{t: batch_sizes[t] > k}
    sorted_lens = (batch_sizes[:, None] > np.arange(batch)[None, :]).sum(0)
    if sequence.unsorted_indices is not None:
        where = np.asarray(sequence.unsorted_indices.tolist(), dtype=_INT)  # original b -> sorted k
    else:
        where = np.arange(batch)
    lengths = sorted_lens[where]
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    t = np.arange(steps)[:, None]
    pad = data.shape[0]
    index = np.where(t < lengths[None, :], offsets[np.minimum(t, len(batch_sizes) - 1)] + where[None, :], pad)
    pad_row = tensor(np.full((1, *data.shape[1:]), padding_value), dtype=data.dtype, device=data.device)
    padded = cat([data, pad_row], 0)[_index_tensor(index.T if batch_first else index, data.device)]
    return padded, _index_tensor(lengths)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences [L_i, *] (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
