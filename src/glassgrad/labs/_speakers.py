"""Lectures 9-10, the self-attention lab's speaker part: who said /ae/, on the Japanese Vowels data.

The course's homework classifies speakers from their mel features with self-attention. Here the
features are the Japanese Vowels data set's 12 LPC cepstrum coefficients per frame (9 speakers,
7-29 frames an utterance, 270 training and 370 test utterances; see
``glassgrad.datasets.load_japanese_vowels``), and the recipe is the homework's: a Linear layer
lifts each frame to d_model numbers, one ``TransformerEncoderLayer`` (2 heads) lets every frame
look at every other, the frames are averaged (padding left out), and a Linear layer gives the 9
speakers' logits; AdamW, a linear warm-up, then a cosine decay of the learning rate.

Next to it, trained the same way: a mean-pooling MLP of the same size without attention (each
frame on its own, then averaged), a GRU of the same size, and a classical baseline (logistic
regression on each utterance's per-coefficient mean and standard deviation).

``run_speakers(ctx)`` records its claims, results, figures and text through the lab's context;
the self-attention lab calls it. It adds 2 claims (the Transformer's test accuracy; its test
cross-entropy against the MLP's), the result ``"speakers"``, the figures ``speakers_attention``
and ``speakers_confusion``, and a section of text headed "Speaker classification on Japanese
Vowels". Quick setting: 50 epochs each, about 20-30 s on a busy 2-core machine; full: 100 epochs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.datasets import load_japanese_vowels, pad_utterances
from glassgrad.labs._lab import LabContext
from glassgrad.nn.utils.rnn import pack_padded_sequence

NUM_SPEAKERS = 9
NUM_FEATURES = 12

# -- data ------------------------------------------------------------------------------------------


@dataclass
class Split:
    """One split, padded: features (N, T_max, 12) float32 standardized with the training statistics,
    lengths (N,), padding_mask (N, T_max) with True at padding, labels (N,) int64."""

    features: np.ndarray
    lengths: np.ndarray
    padding_mask: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, index: np.ndarray) -> tuple[gg.Tensor, gg.Tensor, np.ndarray]:
        """Features and padding mask of utterances ``index``, cut to their longest, and their lengths."""
        lengths = self.lengths[index]
        t = int(lengths.max())
        return gg.tensor(self.features[index, :t]), gg.tensor(self.padding_mask[index, :t]), lengths


def load_speakers() -> tuple[Split, Split, dict]:
    """The train and test splits, each coefficient standardized with the mean and standard
    deviation of all training frames (so no test statistics leak into the model)."""
    train, test = load_japanese_vowels("train"), load_japanese_vowels("test")
    frames = np.concatenate(train.utterances)
    mean, std = frames.mean(0), frames.std(0)
    splits = []
    for data in (train, test):
        batch = pad_utterances([(u - mean) / std for u in data.utterances])
        splits.append(Split(batch.features.astype(np.float32), batch.lengths, batch.padding_mask, data.labels))
    info = {"mean": mean, "std": std, "train_lengths": train.lengths, "test_lengths": test.lengths}
    return splits[0], splits[1], info


# -- models ----------------------------------------------------------------------------------------


def masked_mean(h: gg.Tensor, padding_mask: gg.Tensor) -> gg.Tensor:
    """Mean of ``h`` (B, T, D) over the frames that are not padding (``padding_mask`` (B, T), True
    at padding): each utterance is averaged over its own length, whatever the batch's longest."""
    keep = (~padding_mask).to(h.dtype).unsqueeze(-1)  # (B, T, 1): 1 on real frames
    return (h * keep).sum(1) / keep.sum(1)


class SpeakerTransformer(nn.Module):
    """Linear (12 -> d_model) -> TransformerEncoderLayer (2 heads) -> masked mean -> Linear (-> 9)."""

    def __init__(self, d_model: int, dim_feedforward: int, nhead: int = 2, dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Linear(NUM_FEATURES, d_model)
        self.encoder = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout, batch_first=True)
        self.head = nn.Linear(d_model, NUM_SPEAKERS)

    def forward(self, x: gg.Tensor, padding_mask: gg.Tensor) -> gg.Tensor:
        h = self.encoder(self.embed(x), src_key_padding_mask=padding_mask)
        return self.head(masked_mean(h, padding_mask))

    def attention_weights(self, x: gg.Tensor, padding_mask: gg.Tensor) -> np.ndarray:
        """The encoder's self-attention weights (B, heads, T, T): row i is how much frame i reads
        each frame. The layer calls its attention with need_weights=False (it only needs the
        output), so this calls the same module on the same input asking for the weights (in eval
        mode: in training mode dropout would zero some weights)."""
        was_training = self.training
        self.eval()
        with gg.no_grad():
            h = self.embed(x)  # post-norm layer: its self-attention sees the layer's input as it is
            _, weights = self.encoder.self_attn(h, h, h, key_padding_mask=padding_mask, need_weights=True,
                                                average_attn_weights=False)
        self.train(was_training)
        return weights.numpy()


class SpeakerMLP(nn.Module):
    """Each frame through its own MLP (12 -> hidden -> hidden, ReLU), masked mean, Linear (-> 9):
    the Transformer's pipeline with the attention taken out, so no frame sees another."""

    def __init__(self, hidden: int):
        super().__init__()
        self.frame = nn.Sequential(nn.Linear(NUM_FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, NUM_SPEAKERS)

    def forward(self, x: gg.Tensor, padding_mask: gg.Tensor) -> gg.Tensor:
        return self.head(masked_mean(self.frame(x), padding_mask))


class SpeakerGRU(nn.Module):
    """A GRU over the frames (packed, so it stops at each utterance's own end), its last state ->
    Linear (-> 9)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.gru = nn.GRU(NUM_FEATURES, hidden, batch_first=True)
        self.head = nn.Linear(hidden, NUM_SPEAKERS)

    def forward(self, x: gg.Tensor, padding_mask: gg.Tensor) -> gg.Tensor:
        lengths = (~padding_mask).sum(1)
        _, h_n = self.gru(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        return self.head(h_n[0])


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def mlp_hidden_for(n_params: int) -> int:
    """The hidden width whose SpeakerMLP has the parameter count closest to ``n_params``."""
    return min(range(1, 512), key=lambda h: abs(count_params(SpeakerMLP(h)) - n_params))


def gru_hidden_for(n_params: int) -> int:
    """The hidden width whose SpeakerGRU has the parameter count closest to ``n_params``."""
    # 3 gates: 3h(12 + h + 2) for the GRU, 9(h + 1) for the head
    return min(range(1, 512), key=lambda h: abs(3 * h * (NUM_FEATURES + h + 2) + NUM_SPEAKERS * (h + 1) - n_params))


# -- training --------------------------------------------------------------------------------------


def warmup_cosine(optimizer, warmup: int, total: int) -> gg.optim.lr_scheduler.LRScheduler:
    """The learning rate rises linearly from lr/warmup to lr over ``warmup`` steps, then follows
    a cosine down to 0 at step ``total``."""
    sched = gg.optim.lr_scheduler
    return sched.SequentialLR(
        optimizer,
        [sched.LinearLR(optimizer, start_factor=1 / warmup, total_iters=warmup),
         sched.CosineAnnealingLR(optimizer, T_max=total - warmup)],
        milestones=[warmup],
    )


def train(ctx: LabContext, model: nn.Module, data: Split, epochs: int, lr: float, batch_size: int, desc: str,
          seed: int, weight_decay: float = 0.01) -> dict:
    """AdamW on the cross-entropy, warm-up over the first 10% of the steps then cosine decay;
    the batches are a fresh shuffle of the training set each epoch (``seed`` fixes the order)."""
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(len(data) / batch_size)
    total = epochs * per_epoch
    opt = gg.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = warmup_cosine(opt, max(1, total // 10), total)
    losses, lrs = [], []
    t0 = time.perf_counter()
    model.train()
    for _ in ctx.bar(range(epochs), desc):
        order = rng.permutation(len(data))
        for i in range(0, len(data), batch_size):
            index = order[i:i + batch_size]
            x, mask, _ = data.batch(index)
            loss = F.cross_entropy(model(x, mask), gg.tensor(data.labels[index]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            lrs.append(sched.get_last_lr()[0])
            sched.step()
            losses.append(loss.item())
    return {"loss": np.array(losses), "lr": np.array(lrs), "seconds": time.perf_counter() - t0, "steps": total}


def predict(model: nn.Module, data: Split, batch: int = 400) -> np.ndarray:
    """Predicted speakers of every utterance of ``data``, in eval mode (no dropout)."""
    model.eval()
    preds = []
    with gg.no_grad():
        for i in range(0, len(data), batch):
            x, mask, _ = data.batch(np.arange(i, min(i + batch, len(data))))
            preds.append(model(x, mask).argmax(-1).numpy())
    return np.concatenate(preds)


def utterance_statistics(data: Split) -> np.ndarray:
    """Each utterance as 24 numbers: the mean and the standard deviation of each coefficient over its frames."""
    keep = ~data.padding_mask[..., None]
    n = data.lengths[:, None].astype(np.float64)
    mean = (data.features * keep).sum(1) / n
    var = (((data.features - mean[:, None]) * keep) ** 2).sum(1) / n
    return np.concatenate([mean, np.sqrt(var)], axis=1)


def logistic_baseline(train_data: Split, test_data: Split) -> tuple[float, np.ndarray]:
    """Test accuracy (and predictions) of scikit-learn's multinomial logistic regression on the
    per-utterance mean and standard deviation features: a classical baseline without deep learning."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(utterance_statistics(train_data))
    clf = LogisticRegression(C=1.0, max_iter=2000)
    clf.fit(scaler.transform(utterance_statistics(train_data)), train_data.labels)
    pred = clf.predict(scaler.transform(utterance_statistics(test_data)))
    return float((pred == test_data.labels).mean()), pred


def test_cross_entropy(model: nn.Module, data: Split) -> float:
    """Mean cross-entropy of the model's predicted speaker distribution on ``data`` (eval mode):
    how much probability it gives the right speaker, which accuracy alone does not show."""
    model.eval()
    with gg.no_grad():
        x, mask, _ = data.batch(np.arange(len(data)))
        return F.cross_entropy(model(x, mask), gg.tensor(data.labels)).item()


def confusion_matrix(labels: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(9, 9) counts: row = true speaker, column = predicted speaker."""
    cm = np.zeros((NUM_SPEAKERS, NUM_SPEAKERS), np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


# -- the lab part ----------------------------------------------------------------------------------

# measured in the quick setting on seeds 0-4 (see the text written by run_speakers)
MIN_ACCURACY = 0.96
MAX_CROSS_ENTROPY_RATIO = 0.85


def run_speakers(ctx: LabContext) -> None:
    """Train the homework's Transformer, a same-size mean-pooling MLP and a same-size GRU on the
    Japanese Vowels training split, compare them with logistic regression on the test split, and
    record the claims, results, figures and text."""
    train_data, test_data, info = load_speakers()
    d_model, dim_ff = 32, 64
    epochs, lr, batch = ctx.size(50, 100), 3e-3, 32
    transformer = SpeakerTransformer(d_model, dim_ff)
    n = count_params(transformer)
    models = {"Transformer": transformer, "mean-pooling MLP": SpeakerMLP(mlp_hidden_for(n)),
              "GRU": SpeakerGRU(gru_hidden_for(n))}
    rows: dict[str, dict] = {}
    runs, preds = {}, {}
    for name, model in models.items():
        # the same batches in the same order, the same optimizer, schedule and learning rate for all three
        runs[name] = train(ctx, model, train_data, epochs, lr, batch, f"speakers: {name}", seed=ctx.seed)
        preds[name] = predict(model, test_data)
        rows[name] = {"params": count_params(model), "test_accuracy": float((preds[name] == test_data.labels).mean()),
                      "test_cross_entropy": test_cross_entropy(model, test_data),
                      "train_seconds": runs[name]["seconds"]}
    logistic_acc, _ = logistic_baseline(train_data, test_data)
    rows["logistic regression (mean, std)"] = {"params": 9 * (2 * NUM_FEATURES + 1), "test_accuracy": logistic_acc}
    cm = confusion_matrix(test_data.labels, preds["Transformer"])
    ctx.result("speakers", {"models": rows, "epochs": epochs, "lr": lr, "batch_size": batch,
                            "d_model": d_model, "dim_feedforward": dim_ff, "confusion_matrix": cm})

    tf, mlp = rows["Transformer"], rows["mean-pooling MLP"]
    ctx.claim(
        "Speaker classification on Japanese Vowels: the homework's Transformer (Linear, TransformerEncoderLayer "
        f"with 2 heads, mean pooling, Linear; AdamW, warm-up then cosine decay) reaches >= {100 * MIN_ACCURACY:.0f}% "
        "test accuracy on the 370 test utterances",
        f"{100 * tf['test_accuracy']:.1f}%",
        tf["test_accuracy"] >= MIN_ACCURACY,
        expected=f">= {100 * MIN_ACCURACY:.0f}%",
    )
    ratio = tf["test_cross_entropy"] / mlp["test_cross_entropy"]
    ctx.claim(
        "Self-attention beats a same-size mean-pooling MLP without attention (each frame on its own, then "
        "averaged; same training): the Transformer's test cross-entropy is at least 15% lower",
        f"cross-entropy {tf['test_cross_entropy']:.3f} vs {mlp['test_cross_entropy']:.3f} (ratio {ratio:.2f}); "
        f"accuracy {100 * tf['test_accuracy']:.1f}% vs {100 * mlp['test_accuracy']:.1f}%",
        # both must have learned (>= 90%) for the comparison to mean anything: two diverged models
        # can have any ratio
        ratio <= MAX_CROSS_ENTROPY_RATIO and min(tf["test_accuracy"], mlp["test_accuracy"]) >= 0.9,
        expected=f"ratio <= {MAX_CROSS_ENTROPY_RATIO}, both >= 90% accurate (they learned)",
    )
    _write_text(ctx, rows, epochs, lr, batch, d_model, dim_ff, train_data, test_data, info)
    _figure_attention(ctx, transformer, test_data)
    _figure_confusion(ctx, cm, tf["test_accuracy"])


def _write_text(ctx: LabContext, rows: dict, epochs: int, lr: float, batch: int, d_model: int, dim_ff: int,
                train_data: Split, test_data: Split, info: dict) -> None:
    lengths = np.concatenate([info["train_lengths"], info["test_lengths"]])
    table = "".join(
        f"| {name} | {r['params']:,} | {100 * r['test_accuracy']:.1f}% | "
        + (f"{r['test_cross_entropy']:.3f} | {r['train_seconds']:.1f} s |\n" if "test_cross_entropy" in r else
           "- | - |\n")
        for name, r in rows.items()
    )
    tf, mlp, gru = rows["Transformer"], rows["mean-pooling MLP"], rows["GRU"]
    ctx.write(
        "### Speaker classification on Japanese Vowels\n\n"
        "The homework classifies speakers from their voice features with self-attention. Here the voices are "
        f"the Japanese Vowels data set (UCI; Kudo, Toyama and Shimbo, 1999): {NUM_SPEAKERS} male speakers saying "
        f"/ae/, each utterance {lengths.min()}-{lengths.max()} frames of {NUM_FEATURES} LPC cepstrum "
        f"coefficients; {len(train_data)} training utterances (30 per speaker) and {len(test_data)} test "
        "utterances recorded on other occasions. Each coefficient is standardized with the mean and standard "
        "deviation of the training frames. Utterances of different lengths are padded to the longest of their "
        "batch, and a padding mask (True at padding, PyTorch's `key_padding_mask`) keeps the padding out of "
        "the attention and out of the mean."
    )
    ctx.write(
        f"The homework's model: a Linear layer lifts each frame to d_model = {d_model} numbers, one "
        f"`TransformerEncoderLayer` (2 heads, feed-forward width {dim_ff}, dropout 0.1) lets every frame attend "
        "to every frame of its utterance, the frames are averaged, and a Linear layer gives the 9 speakers' "
        f"logits. It is trained with AdamW (lr {lr:g}, weight decay 0.01, batches of {batch}, {epochs} epochs) "
        "with a linear warm-up over the first 10% of the steps and a cosine decay to 0 "
        "(`SequentialLR` of `LinearLR` and `CosineAnnealingLR`). The same training, batch for batch, is given "
        "to a **mean-pooling MLP** of the same size without attention (two ReLU layers applied to each frame "
        "on its own, then the mean, then a Linear layer: no frame sees another) and to a **GRU** of the same "
        "size (packed sequences, so it stops at each utterance's end; its last state goes to a Linear layer). "
        "The classical baseline is scikit-learn's logistic regression on 24 numbers per utterance: the mean "
        "and the standard deviation of each coefficient over its frames.\n\n"
        "| model | parameters | test accuracy | test cross-entropy | training time |\n|---|---|---|---|---|\n"
        + table
    )
    ctx.write(
        "Published results on this split lie roughly between 94% and 99%; the Transformer's "
        f"{100 * tf['test_accuracy']:.1f}% is in that range. What the lecture claims "
        "for self-attention, that letting frames look at each other helps, shows here less in the accuracy "
        "than in how much probability the model gives the right speaker: test cross-entropy "
        f"{tf['test_cross_entropy']:.3f} against "
        f"the MLP's {mlp['test_cross_entropy']:.3f}, with accuracies {100 * tf['test_accuracy']:.1f}% and "
        f"{100 * mlp['test_accuracy']:.1f}% (one test utterance is 0.27 points). Measured in the quick setting "
        "on seeds 0-4: the Transformer reached 97.3-98.6% and the MLP 97.8-98.1%; the Transformer was the "
        "more accurate on 4 seeds and the less accurate on one, but its cross-entropy was 28-47% lower on "
        "every seed (the GRU: 95.1-97.6%). The claims' thresholds (>= 96%, at least 15% lower) leave a margin "
        "below those. Speaker identity is mostly in the average spectrum of a "
        "voice (the logistic regression on means and standard deviations already gets "
        f"{100 * rows['logistic regression (mean, std)']['test_accuracy']:.1f}%), which an MLP with mean "
        "pooling captures well; attention adds context on top. The GRU of the same size reached "
        f"{100 * gru['test_accuracy']:.1f}%, and its training took {gru['train_seconds'] / tf['train_seconds']:.1f}x "
        "the Transformer's time: it steps through the frames one after another, where attention handles all "
        "frames of the batch in a few matrix products."
    )
    ctx.write(
        "Like the homework's model, this one has no positional encoding: the Transformer, like the MLP, does "
        "not know the order of the frames (averaging after attention makes it a function of the set of "
        "frames). What attention adds is that each frame is re-described in the light of the others before "
        "the average. The maps below show where: each row is one frame's attention over the frames of its "
        "utterance (rows sum to 1). The weights form vertical stripes: most frames read the same few frames, "
        "chosen by their content (a head may pick frames near the start, in the /a/, or near the end, in "
        "the /e/), so each head adds a content-weighted summary of the utterance to every frame. The "
        "confusion matrix shows which speakers the Transformer mixes up on the test utterances."
    )


def _figure_attention(ctx: LabContext, model: SpeakerTransformer, data: Split, count: int = 4) -> None:
    """Both heads' attention weights for a few test utterances of different speakers."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # the first test utterance of speakers 0, 2, 4, 6 ... (different speakers, different lengths)
    chosen = np.array([np.flatnonzero(data.labels == s)[0] for s in range(0, NUM_SPEAKERS, 2)][:count])
    x, mask, lengths = data.batch(chosen)
    weights = model.attention_weights(x, mask)  # (count, heads, T, T)
    heads = weights.shape[1]
    vmax = max(float(weights[j, :, :n, :n].max()) for j, n in enumerate(lengths))
    fig, axes = plt.subplots(heads, count, figsize=(2.9 * count + 1, 2.9 * heads), squeeze=False,
                             constrained_layout=True)
    for j, (i, n) in enumerate(zip(chosen, lengths)):
        for h in range(heads):
            ax = axes[h, j]
            im = ax.imshow(weights[j, h, :n, :n], cmap="viridis", vmin=0, vmax=vmax)
            ax.set_title(f"speaker {data.labels[i] + 1}, {n} frames, head {h + 1}", fontsize=9)
            ax.set_xlabel("attended frame (key)", fontsize=8)
            if j == 0:
                ax.set_ylabel("frame (query)", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=7)
    fig.colorbar(im, ax=axes.ravel().tolist(), fraction=0.02, label="attention weight")
    fig.suptitle("Self-attention weights of the trained Transformer on test utterances (each row sums to 1)")
    ctx.figure("speakers_attention", fig)


def _figure_confusion(ctx: LabContext, cm: np.ndarray, accuracy: float) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    ax.imshow(np.log1p(cm), cmap="Blues")  # log counts: the few errors stay visible
    for i in range(NUM_SPEAKERS):
        for j in range(NUM_SPEAKERS):
            if cm[i, j]:
                ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > cm.max() / 4 else "black")
    ticks = range(NUM_SPEAKERS)
    ax.set(xticks=ticks, yticks=ticks, xticklabels=[str(s + 1) for s in ticks],
           yticklabels=[str(s + 1) for s in ticks], xlabel="predicted speaker", ylabel="true speaker",
           title=f"Transformer, {cm.sum()} test utterances: {100 * accuracy:.1f}% right")
    ctx.figure("speakers_confusion", fig)
