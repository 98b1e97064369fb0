"""Lectures 9-10: self-attention, from its formulas to what it can learn that an RNN or a CNN cannot.

Self-attention turns each input vector a^i into a query q^i = W^q a^i, a key k^i = W^k a^i and a
value v^i = W^v a^i, scores every pair alpha_{i,j} = q^i . k^j / sqrt(d), normalizes each row with
a softmax and outputs b^i = sum_j alpha'_{i,j} v^j. The lab checks, with glassgrad:

- The formulas: b computed by hand from the lecture's indices (plain NumPy loops over i and j, one
  head and two) equals ``nn.MultiheadAttention``'s output and ``F.scaled_dot_product_attention``'s,
  in float64.
- Positional encoding: nothing in those formulas knows where a vector is, so without positions
  permuting the inputs permutes the outputs (within 1e-10), and with the sinusoidal positional
  encoding added it does not. On a task that is only about order (is a digit sequence sorted? the
  sorted and unsorted sequences are permutations of the same multisets of digits) the model without
  positions stays at chance and the one with them learns it.
- Speaker classification on the Japanese Vowels data (``_speakers.py``), the homework's recipe.
- Self-attention against a CNN and an RNN, on one task whose label depends on two tokens D apart
  (is the first token equal to the last?): a 1-D CNN only sees its receptive field, so it fails as
  soon as D is larger; a GRU must carry the first token through D steps and, with the same training
  budget, fails for long D; self-attention relates any two positions in one step and succeeds at
  every D tried, its weights going to the two tokens that decide. The time per training step
  against the sequence length, for the GRU and for self-attention, is reported as measured.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.labs._lab import Lab, LabContext
from glassgrad.labs._speakers import run_speakers

# the models' size, shared by every trained model of the lab (about 9,000 parameters each)
D_MODEL, HEADS, FEEDFORWARD = 32, 2, 64
GRU_HIDDEN = 40  # a GRU of about as many parameters as the self-attention model
LR, BATCH = 1e-2, 64
CHANCE = 0.5  # both tasks have two balanced classes

# -- the formulas, by hand -------------------------------------------------------------------------


def attention_by_hand(a: np.ndarray, w_q: np.ndarray, w_k: np.ndarray, w_v: np.ndarray, w_o: np.ndarray,
                      heads: int) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention of the rows a^1..a^L of ``a`` (L, E), written with the lecture's
    indices: for head h, q^{i,h} = W^{q,h} a^i (and so k, v), alpha_{i,j} = q^i . k^j / sqrt(d),
    alpha'_{i,j} = exp(alpha_{i,j}) / sum_j' exp(alpha_{i,j'}), b^{i,h} = sum_j alpha'_{i,j} v^j;
    then b^i = W^o [b^{i,1}; ...; b^{i,H}]. Head h owns rows h d..(h+1) d of each W (d = E / H).
    Returns b (L, E) and the weights alpha' (H, L, L)."""
    length, e = a.shape
    d = e // heads
    weights = np.zeros((heads, length, length))
    concat = np.zeros((length, e))
    for h in range(heads):
        rows = slice(h * d, (h + 1) * d)
        q = [w_q[rows] @ a[i] for i in range(length)]
        k = [w_k[rows] @ a[i] for i in range(length)]
        v = [w_v[rows] @ a[i] for i in range(length)]
        for i in range(length):
            alpha = np.array([q[i] @ k[j] / np.sqrt(d) for j in range(length)])
            alpha_prime = np.exp(alpha - alpha.max())  # minus the max: the same softmax, without overflow
            alpha_prime /= alpha_prime.sum()
            weights[h, i] = alpha_prime
            concat[i, rows] = sum(alpha_prime[j] * v[j] for j in range(length))
    return concat @ w_o.T, weights


@dataclass
class Formulas:
    """How far the library's attention is from the lecture's formulas computed by hand."""

    length: int
    dim: int
    worst_module: float  # |b by hand - nn.MultiheadAttention's output|, largest over heads 1 and 2
    worst_function: float  # the same for F.scaled_dot_product_attention on the projected q, k, v
    worst_weights: float  # |alpha' by hand - the module's attention weights|


def formulas_part(ctx: LabContext, length: int = 6, dim: int = 8) -> Formulas:
    """The lecture's formulas by hand against ``nn.MultiheadAttention`` (no biases, as in the
    lecture) and ``F.scaled_dot_product_attention``, on random float64 inputs, with 1 and 2 heads."""
    rng = np.random.default_rng(ctx.seed + 10)
    a = rng.normal(size=(length, dim))
    worst = {"module": 0.0, "function": 0.0, "weights": 0.0}
    for heads in (1, 2):
        mha = nn.MultiheadAttention(dim, heads, bias=False, batch_first=True, dtype=gg.float64)
        w = mha.in_proj_weight.detach().numpy()  # [W^q; W^k; W^v] stacked, (3E, E)
        w_q, w_k, w_v = w[:dim], w[dim:2 * dim], w[2 * dim:]
        w_o = mha.out_proj.weight.detach().numpy()
        b, alpha = attention_by_hand(a, w_q, w_k, w_v, w_o, heads)
        x = gg.tensor(a[None])
        with gg.no_grad():
            out, weights = mha(x, x, x, need_weights=True, average_attn_weights=False)
            d = dim // heads
            q, k, v = (gg.tensor((a @ m.T).reshape(length, heads, d).transpose(1, 0, 2)) for m in (w_q, w_k, w_v))
            per_head = F.scaled_dot_product_attention(q, k, v).numpy()  # (H, L, d)
        by_function = per_head.transpose(1, 0, 2).reshape(length, dim) @ w_o.T
        worst["module"] = max(worst["module"], float(np.abs(out.numpy()[0] - b).max()))
        worst["function"] = max(worst["function"], float(np.abs(by_function - b).max()))
        worst["weights"] = max(worst["weights"], float(np.abs(weights.numpy()[0] - alpha).max()))
    result = Formulas(length, dim, worst["module"], worst["function"], worst["weights"])
    ctx.result("formulas", result.__dict__)
    ctx.claim(
        f"The lecture's formulas computed by hand (loops over i and j: q = W^q a, k = W^k a, v = W^v a, "
        f"b^i = sum_j softmax_j(q^i . k^j / sqrt(d)) v^j, heads concatenated and mixed by W^o) give the library's "
        f"attention: nn.MultiheadAttention and F.scaled_dot_product_attention ({length} vectors of {dim} numbers, "
        "1 and 2 heads, float64)",
        f"largest difference {max(result.worst_module, result.worst_function):.1e} in b, "
        f"{result.worst_weights:.1e} in the weights alpha'",
        max(result.worst_module, result.worst_function, result.worst_weights) < 1e-12,
        expected="< 1e-12",
    )
    ctx.write(
        "**The formulas.** Each input a^i gives a query q^i = W^q a^i, a key k^i = W^k a^i and a value "
        "v^i = W^v a^i; query i scores every key, alpha_{i,j} = q^i . k^j / sqrt(d); a softmax over j turns the "
        "scores into weights alpha'_{i,j}; and b^i = sum_j alpha'_{i,j} v^j. With several heads each head has its "
        "own (smaller) W^q, W^k, W^v, and the heads' outputs, stacked, are mixed by one more matrix W^o. The lab "
        "computes this by hand, with a loop over every i and j, from the weights of an `nn.MultiheadAttention` "
        "(without biases, as the lecture writes it), and compares it with what the module returns and with "
        "`F.scaled_dot_product_attention` on the same q, k, v: they agree to "
        f"{max(result.worst_module, result.worst_function):.0e}, rounding error in float64. The library computes "
        "exactly the lecture's sums, only all at once: Q K^T for every (i, j) in one matrix product."
    )
    return result


# -- models ----------------------------------------------------------------------------------------


class AttentionClassifier(nn.Module):
    """Tokens -> Embedding -> (sinusoidal positional encoding) -> one TransformerEncoderLayer ->
    mean over positions -> Linear: a classifier of whole sequences by self-attention."""

    def __init__(self, vocab: int, n_classes: int, max_len: int, positions: bool = True) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, D_MODEL)
        self.positions = (nn.SinusoidalPositionalEncoding(D_MODEL, dropout=0.0, max_len=max_len, batch_first=True)
                          if positions else None)
        self.encoder = nn.TransformerEncoderLayer(D_MODEL, HEADS, FEEDFORWARD, dropout=0.0, batch_first=True)
        self.head = nn.Linear(D_MODEL, n_classes)

    def encode(self, tokens: gg.Tensor) -> gg.Tensor:
        """The encoder's output at every position, (N, L, D_MODEL)."""
        x = self.embed(tokens)
        if self.positions is not None:
            x = self.positions(x)
        return self.encoder(x)

    def forward(self, tokens: gg.Tensor) -> gg.Tensor:
        return self.head(self.encode(tokens).mean(1))


class GRUClassifier(nn.Module):
    """Tokens -> Embedding -> GRU, read left to right -> its last hidden state -> Linear."""

    def __init__(self, vocab: int, n_classes: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, D_MODEL)
        self.gru = nn.GRU(D_MODEL, GRU_HIDDEN, batch_first=True)
        self.head = nn.Linear(GRU_HIDDEN, n_classes)

    def forward(self, tokens: gg.Tensor) -> gg.Tensor:
        _, last = self.gru(self.embed(tokens))
        return self.head(last[-1])


class CNNClassifier(nn.Module):
    """Tokens -> Embedding -> ``layers`` x (Conv1d of width ``kernel``, padding to keep the length,
    ReLU) -> mean over positions -> Linear."""

    def __init__(self, vocab: int, n_classes: int, layers: int = 3, kernel: int = 3) -> None:
        super().__init__()
        self.layers, self.kernel = layers, kernel
        self.embed = nn.Embedding(vocab, D_MODEL)
        convs: list[nn.Module] = []
        for _ in range(layers):
            convs += [nn.Conv1d(D_MODEL, D_MODEL, kernel, padding=kernel // 2), nn.ReLU()]
        self.convs = nn.Sequential(*convs)
        self.head = nn.Linear(D_MODEL, n_classes)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.layers, self.kernel)

    def forward(self, tokens: gg.Tensor) -> gg.Tensor:
        x = self.embed(tokens).transpose(1, 2)  # Conv1d wants (N, channels, L)
        return self.head(self.convs(x).mean(2))


def receptive_field(layers: int, kernel: int) -> int:
    """How many consecutive input positions one output of ``layers`` stacked convolutions of width
    ``kernel`` (stride 1) depends on: each layer widens the field by kernel - 1."""
    return 1 + layers * (kernel - 1)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def train_classifier(ctx: LabContext, model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int, desc: str,
                     lr: float = LR, batch: int = BATCH) -> np.ndarray:
    """AdamW with a cosine decay of the learning rate to 0 over ``steps`` steps, each on a random
    batch of ``batch`` training sequences, cross-entropy loss. Returns the loss of each step."""
    rng = np.random.default_rng(ctx.seed + 20)
    opt = gg.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = gg.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    model.train()
    losses = np.zeros(steps)
    for step in ctx.bar(range(steps), desc):
        idx = rng.choice(len(y), size=batch, replace=False)
        loss = F.cross_entropy(model(gg.tensor(x[idx])), gg.tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses[step] = loss.item()
    return losses


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 250) -> float:
    """The fraction of the sequences ``x`` classified as ``y``, in eval mode."""
    model.eval()
    with gg.no_grad():
        pred = np.concatenate([model(gg.tensor(x[i:i + batch])).argmax(-1).numpy() for i in range(0, len(y), batch)])
    return float((pred == y).mean())


# -- positional encoding ---------------------------------------------------------------------------


def sorted_task(n_pairs: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` pairs of digit sequences: ``length`` random digits sorted (label 1), and the same
    digits in a random order that is not sorted (label 0). Every multiset of digits appears once in
    each class, so what is in a sequence says nothing about its label: only the order does."""
    xs, ys = [], []
    while len(ys) < 2 * n_pairs:
        digits = np.sort(rng.integers(0, 10, length))
        if digits[0] == digits[-1]:
            continue  # all equal: no order of them is unsorted
        shuffled = rng.permutation(digits)
        while np.all(np.diff(shuffled) >= 0):
            shuffled = rng.permutation(digits)
        xs += [digits, shuffled]
        ys += [1, 0]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


def equivariance_error(model: AttentionClassifier, tokens: np.ndarray, rng: np.random.Generator) -> float:
    """Largest |f(x permuted) - f(x) permuted| over the encoder's outputs f at every position, each
    sequence of ``tokens`` permuted by its own random permutation (the model in float64, eval mode)."""
    model = copy.deepcopy(model).to(gg.float64)
    model.eval()
    perms = np.array([rng.permutation(tokens.shape[1]) for _ in tokens])
    rows = np.arange(len(tokens))[:, None]
    with gg.no_grad():
        out = model.encode(gg.tensor(tokens)).numpy()
        out_of_permuted = model.encode(gg.tensor(tokens[rows, perms])).numpy()
    return float(np.abs(out_of_permuted - out[rows, perms]).max())


@dataclass
class Positional:
    """The order task with and without positional encoding, and how equivariant each model is."""

    length: int
    train_pairs: int
    steps: int
    acc: dict[str, float]  # test accuracy, "without" / "with" positional encoding
    train_acc: dict[str, float]
    equivariance: dict[str, float]  # largest |f(permuted) - permuted f|
    losses: dict[str, np.ndarray] = field(repr=False)


def positional_part(ctx: LabContext) -> Positional:
    """Train the same self-attention classifier with and without positional encoding on 'is this
    digit sequence sorted?', then permute the inputs of both trained models."""
    rng = np.random.default_rng(ctx.seed + 30)
    length, n_pairs, steps = 8, ctx.size(2000, 5000), ctx.size(300, 1000)
    x, y = sorted_task(n_pairs, length, rng)
    x_test, y_test = sorted_task(500, length, rng)
    acc, train_acc, equi, losses = {}, {}, {}, {}
    for name, positions in (("without", False), ("with", True)):
        model = AttentionClassifier(10, 2, length, positions=positions)
        losses[name] = train_classifier(ctx, model, x, y, steps, f"sorted? {name} positions")
        acc[name], train_acc[name] = accuracy(model, x_test, y_test), accuracy(model, x, y)
        equi[name] = equivariance_error(model, x_test[:50], np.random.default_rng(ctx.seed + 31))
    result = Positional(length, n_pairs, steps, acc, train_acc, equi, losses)
    ctx.result("positional", {k: v for k, v in result.__dict__.items() if k != "losses"})
    ctx.claim(
        "Without positional encoding self-attention is permutation-equivariant: permuting the input vectors "
        "permutes the output vectors; with the sinusoidal positional encoding added it is not (the two trained "
        "models of the order task below, encoder outputs, 50 test sequences, float64)",
        f"largest |f(permuted x) - permuted f(x)|: {equi['without']:.1e} without, {equi['with']:.2g} with "
        "positional encoding",
        equi["without"] < 1e-10 and equi["with"] > 1e-2,
        expected="< 1e-10 without, > 0.01 with",
    )
    ctx.claim(
        f"On a task that is only about order (are these {length} digits sorted? sorted and unsorted sequences are "
        "permutations of the same digits), self-attention without positional encoding stays at chance, and with "
        "it learns the task",
        f"test accuracy {100 * acc['without']:.1f}% without, {100 * acc['with']:.1f}% with positional encoding",
        acc["without"] <= CHANCE + 0.05 and acc["with"] >= 0.90,
        expected="without <= 55%, with >= 90%",
    )
    ctx.write(
        "**Positional encoding.** Nothing in the formulas above knows where a^i is in the sequence: permute the "
        "inputs and the same sums are taken in another order, so the outputs come out permuted. That is measured "
        "on trained models (a `TransformerEncoderLayer`, evaluated in float64): without positions, "
        f"|f(permuted x) - permuted f(x)| is at most {equi['without']:.0e}, rounding error. The sinusoidal "
        "positional encoding adds a vector e^i to a^i that depends on the position i "
        "(`nn.SinusoidalPositionalEncoding`: sin and cos of i at several frequencies), and the outputs then move "
        f"by up to {equi['with']:.2g} when the inputs are permuted.\n\n"
        f"Why it matters: the same model (embedding, one encoder layer with {HEADS} heads, mean over the positions, "
        f"a linear layer; {steps} AdamW steps of {BATCH} sequences) learns whether {length} random digits are "
        f"sorted. The {n_pairs:,} training pairs and 500 test pairs each hold a sorted sequence and an unsorted "
        "order of the same digits, so counting digits cannot help. Without positional encoding the model scores "
        f"{100 * acc['without']:.1f}% on the test pairs ({100 * train_acc['without']:.1f}% on the training ones): "
        "its mean-pooled output depends only on which digits occur, so both members of a pair get the same "
        f"answer, exactly one of them right. With positional encoding it reaches {100 * acc['with']:.1f}% "
        f"({100 * train_acc['with']:.1f}% on the training pairs)."
    )
    return result


# -- one task for self-attention, a CNN and an RNN: two tokens D apart -------------------------------

KEYS, DISTRACTORS = 2, 6  # tokens 0 and 1 decide the label; tokens 2..7 fill the space between


def far_pair_task(n: int, distance: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of ``distance`` + 1 tokens: the first and the last are 0 or 1 (at random),
    the ones between are distractors (2..7); the label is 1 if the first equals the last. The two
    classes are balanced and neither token alone says anything about the label."""
    x = rng.integers(KEYS, KEYS + DISTRACTORS, size=(n, distance + 1))
    first, last = rng.integers(0, KEYS, n), rng.integers(0, KEYS, n)
    x[:, 0], x[:, -1] = first, last
    return x.astype(np.int64), (first == last).astype(np.int64)


def make_model(kind: str, max_len: int) -> nn.Module:
    """A fresh classifier of the far-pair task: "self-attention", "GRU" or "CNN"."""
    vocab = KEYS + DISTRACTORS
    if kind == "self-attention":
        return AttentionClassifier(vocab, 2, max_len)
    if kind == "GRU":
        return GRUClassifier(vocab, 2)
    if kind == "CNN":
        return CNNClassifier(vocab, 2)
    raise ValueError(f"make_model: expected 'self-attention', 'GRU' or 'CNN', got {kind!r}")


MODELS = ("self-attention", "GRU", "CNN")


@dataclass
class Distances:
    """Test accuracy of each model on the far-pair task at each distance."""

    distances: list[int]
    steps: int
    acc: dict[str, list[float]]  # model -> accuracy at each distance
    params: dict[str, int]
    receptive_field: int
    # the self-attention model's weights alpha' at the longest distance, averaged over the heads and
    # 200 test sequences: (query, key), for the figure
    weights: np.ndarray = field(repr=False)

    def at(self, kind: str, distance: int) -> float:
        return self.acc[kind][self.distances.index(distance)]


def distance_part(ctx: LabContext) -> Distances:
    """Train self-attention, a GRU and a CNN of about the same size, with the same optimizer, steps
    and learning rate, on the far-pair task at each distance; test accuracy on fresh sequences."""
    distances = ctx.size([4, 8, 16, 32], [4, 8, 16, 32, 64])  # D = 128: 78% after 1,000 steps (seed 0)
    steps, n_train = ctx.size(400, 1000), ctx.size(4000, 8000)
    acc: dict[str, list[float]] = {k: [] for k in MODELS}
    for distance in distances:
        rng = np.random.default_rng(ctx.seed * 1000 + distance)
        x, y = far_pair_task(n_train, distance, rng)
        x_test, y_test = far_pair_task(1000, distance, rng)
        for kind in MODELS:
            model = make_model(kind, distance + 1)
            train_classifier(ctx, model, x, y, steps, f"{kind}, D={distance}")
            acc[kind].append(accuracy(model, x_test, y_test))
            if kind == "self-attention":
                weights = mean_attention(model, x_test[:200])
    params = {k: count_params(make_model(k, 8)) for k in MODELS}
    result = Distances(distances, steps, acc, params, make_model("CNN", 8).receptive_field, weights)
    ctx.result("distances", {k: v for k, v in result.__dict__.items() if k != "weights"})
    return result


def mean_attention(model: AttentionClassifier, tokens: np.ndarray) -> np.ndarray:
    """The weights alpha'_{i,j} of ``model``'s encoder layer (query i, key j), averaged over its
    heads and over the sequences ``tokens``."""
    model.eval()
    with gg.no_grad():
        x = model.embed(gg.tensor(tokens))
        x = model.positions(x) if model.positions is not None else x
        _, weights = model.encoder.self_attn(x, x, x, need_weights=True)  # averaged over the heads
    return weights.numpy().mean(0)


def cnn_part(ctx: LabContext, dist: Distances) -> None:
    """The CNN against self-attention on the far-pair task: the CNN learns it while both tokens fit
    in its receptive field, and stays at chance beyond."""
    rf = dist.receptive_field
    inside = [d for d in dist.distances if d <= rf - 1]  # the two tokens fit in one output's field
    outside = [d for d in dist.distances if d > rf - 1]
    cnn_in = min(dist.at("CNN", d) for d in inside)
    cnn_out = max(dist.at("CNN", d) for d in outside)
    att_out = min(dist.at("self-attention", d) for d in outside)
    ctx.claim(
        f"A 1-D CNN (3 convolutions of width 3: receptive field {rf} tokens) learns 'is the first token equal to "
        f"the last?' when they are at most {rf - 1} apart, but stays near chance when they are farther apart than "
        "its receptive field, where self-attention succeeds",
        f"CNN {100 * cnn_in:.1f}% at D = {', '.join(map(str, inside))}; at D = {', '.join(map(str, outside))}: "
        f"CNN at most {100 * cnn_out:.1f}%, self-attention at least {100 * att_out:.1f}%",
        cnn_in >= 0.90 and cnn_out <= CHANCE + 0.10 and att_out >= 0.90,
        expected="CNN >= 90% inside, <= 60% outside its field; self-attention >= 90% outside",
    )
    ctx.write(
        "**Self-attention against a CNN.** The lecture: a CNN is self-attention with a fixed receptive field. "
        "Each convolution output looks at a window of neighbours with weights fixed by their offset, where "
        "self-attention looks at every position with weights it computes from the data. This task makes the "
        "difference visible: a sequence of D + 1 tokens whose first and last tokens are 0 or 1 and the rest "
        "distractors (2 to 7); the label is whether the first equals the last. Neither token alone says anything "
        f"about the label. The CNN here stacks 3 convolutions of width 3, so one of its outputs sees {rf} "
        f"consecutive tokens (1 + 3 x 2): its receptive field. Then it averages over the positions. When D <= "
        f"{rf - 1} some outputs see both tokens and the CNN learns the task; when D > {rf - 1} no output sees both, "
        "the average is a sum of terms that each know one of them, and such a sum cannot express 'equal' (the "
        "best it can do, by the loss, is a coin flip). Self-attention relates the two ends in one layer at every "
        "distance."
    )


def rnn_part(ctx: LabContext, dist: Distances) -> None:
    """The GRU against self-attention on the far-pair task: the GRU's accuracy falls with the
    distance, self-attention's does not."""
    short, long = dist.distances[0], dist.distances[-1]
    gru_short, gru_long = dist.at("GRU", short), dist.at("GRU", long)
    att_worst = min(dist.acc["self-attention"])
    ctx.claim(
        f"A GRU must carry the first token through every step between: with the same training budget it learns "
        f"the task at D = {short} but fails at D = {long}",
        f"GRU {100 * gru_short:.1f}% at D = {short}, {100 * gru_long:.1f}% at D = {long}",
        gru_short >= 0.90 and gru_long <= CHANCE + 0.10,
        expected=f">= 90% at D = {short}, <= 60% at D = {long}",
    )
    ctx.claim(
        f"Self-attention relates two positions in one step, whatever their distance: it learns the task at every "
        f"distance tried, D = {', '.join(map(str, dist.distances))}",
        f"lowest accuracy {100 * att_worst:.1f}%",
        att_worst >= 0.90,
        expected=">= 90% at every D",
    )
    ends = float(dist.weights.mean(0)[[0, -1]].sum())  # the mean query's weight on the two deciding tokens
    ctx.claim(
        f"Trained, self-attention looks where the answer is: at D = {long} its queries put at least 30% of their "
        f"weight on the first and the last token, 2 of {long + 1} positions (uniform weights: {200 / (long + 1):.0f}%)",
        f"{100 * ends:.0f}% of the weight, averaged over the queries, heads and 200 test sequences",
        ends >= 0.3,
        expected=">= 30% (measured 54-89% on seeds 0-4)",
    )
    rows = "".join(
        f"| {d} | " + " | ".join(f"{100 * dist.acc[k][i]:.1f}%" for k in MODELS) + " |\n"
        for i, d in enumerate(dist.distances)
    )
    gru_fails = [d for d in dist.distances if dist.at("GRU", d) < 0.75]
    ctx.write(
        "**Self-attention against an RNN.** The same task, for a GRU that reads the tokens left to right and "
        "classifies from its last hidden state: it has to keep the first token in its state through D steps of "
        "distractors, and its gradient has to come back through all of them. All three models have about the "
        f"same size ({', '.join(f'{k} {v:,}' for k, v in dist.params.items())} parameters) and the same training: "
        f"{dist.steps} AdamW steps of {BATCH} sequences, learning rate {LR} with a cosine decay; test accuracy on "
        "1,000 new sequences:\n\n"
        "| D | " + " | ".join(MODELS) + " |\n|---|---|---|---|\n" + rows + "\n"
        + (f"With this budget the GRU fails from D = {gru_fails[0]} on. Its accuracy does not degrade gently: "
           "at each distance it either learns the task or stays at chance, once the first token is too far back "
           "for the gradient to find it. "
           if gru_fails else "With this budget the GRU did not fail at any distance tried. ")
        + "Self-attention does not care how far apart the tokens are; it pays for that elsewhere, as the "
        f"timing below shows. The attention figure shows what it learned at D = {long}: whatever the query, "
        f"much of its weight goes to the first and the last token ({100 * ends:.0f}% on average), the two that "
        "decide the label."
    )


# -- time per training step against the sequence length -----------------------------------------------


@dataclass
class StepTimes:
    """Median wall time of one training step (forward, backward, AdamW) per sequence length."""

    lengths: list[int]
    batch: int
    ms: dict[str, list[float]]  # "GRU" / "self-attention" -> ms per step at each length


def timing_part(ctx: LabContext) -> StepTimes:
    """Time training steps of the GRU and the self-attention classifiers on random sequences of
    growing length (as measured on this machine, one BLAS thread)."""
    lengths = ctx.size([16, 32, 64, 128, 256], [16, 32, 64, 128, 256, 512])
    batch, repeats = 32, ctx.size(5, 7)
    rng = np.random.default_rng(ctx.seed + 40)
    ms: dict[str, list[float]] = {"GRU": [], "self-attention": []}
    for length in lengths:
        x, y = far_pair_task(batch, length - 1, rng)
        xt, yt = gg.tensor(x), gg.tensor(y)
        for kind in ms:
            model = make_model(kind, length)
            opt = gg.optim.AdamW(model.parameters(), lr=LR)
            times = []
            for _ in range(repeats + 1):  # the first step is a warm-up, not counted
                t0 = time.perf_counter()
                loss = F.cross_entropy(model(xt), yt)
                opt.zero_grad()
                loss.backward()
                opt.step()
                times.append(time.perf_counter() - t0)
            ms[kind].append(1000 * float(np.median(times[1:])))
    result = StepTimes(lengths, batch, ms)
    ctx.result("step_times", result.__dict__)
    gru, att = np.array(ms["GRU"]), np.array(ms["self-attention"])
    gru_p, att_p = growth_exponent(lengths, gru), growth_exponent(lengths, att)
    last = len(lengths) - 1

    def compare(i: int) -> str:
        ratio = att[i] / gru[i]
        return (f"self-attention took {ratio:.1f}x the GRU's time" if ratio >= 1
                else f"the GRU took {1 / ratio:.1f}x self-attention's time")

    ctx.write(
        f"**Time per training step** (forward, backward and AdamW update, batch of {batch}, median of {repeats} "
        "steps, measured on this machine while the lab ran, NumPy on one BLAS thread; a busy machine makes every "
        "number larger and noisier):\n\n"
        "| length | GRU (ms) | self-attention (ms) |\n|---|---|---|\n"
        + "".join(f"| {n} | {g:.1f} | {a:.1f} |\n" for n, g, a in zip(lengths, gru, att))
        + f"\nIn this run, at length {lengths[0]} {compare(0)}, and at length {lengths[-1]} {compare(last)}. "
        f"Over lengths {lengths[0]}-{lengths[-1]} the GRU's time grew about as length^{gru_p:.1f} and "
        f"self-attention's as length^{att_p:.1f} (slopes of the straight lines that fit the log-log figure best); "
        f"from length {lengths[-2]} to {lengths[-1]} the GRU's time was multiplied by {gru[-1] / gru[-2]:.1f} and "
        f"self-attention's by {att[-1] / att[-2]:.1f}. "
        "What to expect: the GRU makes one small step per token, each waiting for the previous hidden state, "
        "forward and again backward, so its time grows in proportion to the length (x2 per doubling). "
        "Self-attention scores all length^2 pairs of positions at once, in a few large matrix products where "
        "nothing waits for anything else; its time grows as the square of the length (x4 per doubling) once "
        "those products dominate, and more slowly before, while fixed costs do. On a GPU, with thousands of "
        "arithmetic units working in parallel, those products are where the Transformer's speed comes from. "
        + (f"On this CPU, NumPy on one thread, there is no such parallel hardware to use: the GRU was the faster "
           f"of the two at length {lengths[-1]}."
           if att[-1] > gru[-1] else
           f"Even on this CPU, NumPy on one thread, self-attention was the faster of the two at length "
           f"{lengths[-1]}.")
    )
    return result


def growth_exponent(lengths: list[int], ms: np.ndarray) -> float:
    """The p of time ~ length^p that fits the measurements best (least squares on log-log)."""
    return float(np.polyfit(np.log(lengths), np.log(ms), 1)[0])


# -- figures ---------------------------------------------------------------------------------------


def figure_distances(ctx: LabContext, dist: Distances) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.6))
    styles = {"self-attention": ("tab:blue", "o"), "GRU": ("tab:orange", "s"), "CNN": ("tab:green", "^")}
    for kind in MODELS:
        color, marker = styles[kind]
        ax.plot(dist.distances, 100 * np.array(dist.acc[kind]), marker=marker, color=color,
                label=f"{kind} ({dist.params[kind]:,} params)")
    ax.axhline(100 * CHANCE, color="gray", ls=":", lw=1)
    ax.text(dist.distances[0], 100 * CHANCE + 1, " chance", ha="left", va="bottom", color="gray", fontsize=8)
    reach = dist.receptive_field - 1  # the largest D at which one CNN output sees both tokens
    ax.axvline(reach, color="tab:green", ls="--", lw=1)
    ax.text(reach * 0.97, 62, f"one CNN output sees\nboth tokens only\nfor D <= {reach}\n(receptive field "
            f"{dist.receptive_field})", color="tab:green", fontsize=8, ha="right", va="center")
    ax.set_xscale("log", base=2)
    ax.set_xticks(dist.distances, [str(d) for d in dist.distances])
    ax.set(xlabel="distance D between the two deciding tokens", ylabel="test accuracy (%)", ylim=(40, 104),
           title="'Is the first token equal to the last?': accuracy against distance")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, fontsize=8, frameon=False)
    ctx.figure("accuracy_vs_distance", fig)


def figure_attention(ctx: LabContext, dist: Distances) -> None:
    import matplotlib.pyplot as plt

    w = dist.weights
    length = len(w)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [1, 1.3]},
                                   layout="constrained")
    im = ax1.imshow(w, cmap="viridis", vmin=0)
    fig.colorbar(im, ax=ax1, fraction=0.046)
    ax1.set(xlabel="key position j", ylabel="query position i",
            title=f"alpha'(i, j), D = {length - 1}, mean of 200 test sequences")
    ax2.bar(np.arange(length), w.mean(0), color="tab:blue")
    ax2.axhline(1 / length, color="gray", ls=":", lw=1)
    ax2.text(length / 2, 1 / length, f"uniform: 1/{length}", ha="center", va="bottom", color="gray", fontsize=8)
    ax2.set(xlabel="key position j", ylabel="weight, averaged over the queries",
            title="Which positions the queries attend to")
    fig.suptitle("Self-attention on 'is the first token equal to the last?' (weights averaged over the 2 heads)")
    ctx.figure("attention_far_pair", fig)


def figure_step_times(ctx: LabContext, times: StepTimes) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, color in (("GRU", "tab:orange"), ("self-attention", "tab:blue")):
        ax.plot(times.lengths, times.ms[kind], "o-", color=color, label=kind)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(times.lengths, [str(n) for n in times.lengths])
    ax.set(xlabel="sequence length", ylabel="ms per training step",
           title=f"Time per training step (batch {times.batch}), measured on this CPU")
    ax.legend()
    ctx.figure("time_vs_length", fig)


# -- the lab ---------------------------------------------------------------------------------------


def run(ctx: LabContext) -> None:
    lab_start = time.perf_counter()
    formulas_part(ctx)
    positional_part(ctx)
    run_speakers(ctx)  # the lecture's application, speech: who is speaking (labs/_speakers.py)
    dist = distance_part(ctx)
    cnn_part(ctx, dist)
    rnn_part(ctx, dist)
    figure_distances(ctx, dist)
    figure_attention(ctx, dist)
    figure_step_times(ctx, timing_part(ctx))
    ctx.result("lab_seconds", time.perf_counter() - lab_start)


LAB = Lab(
    name="self-attention",
    lecture="Lectures 9-10",
    title="Self-attention",
    summary="q, k, v and the attention sum by hand; positional encoding and order; speaker classification; "
            "self-attention against a CNN and a GRU as the distance grows; time per step against length",
    run=run,
)
