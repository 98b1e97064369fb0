"""BLEU (Papineni et al. 2002) through sacrebleu.

``BLEU = BP * exp(sum_n 1/4 log p_n)`` over n = 1..4, where ``p_n`` is the clipped n-gram
precision of the hypotheses against the references (an n-gram counts at most as often as it
appears in one reference), and the brevity penalty ``BP = min(1, exp(1 - r / c))`` punishes
hypotheses (total length ``c``) shorter than the references (total length ``r``). Scores are in
[0, 100].

Inputs are strings, which sacrebleu tokenizes (``tokenize="13a"``, its default: punctuation
split off; ``"zh"`` for Chinese: every Chinese character is a token; ``"char"``, ``"intl"``,
``"none"``), or token lists, which are joined by spaces and not tokenized again.
"""

from __future__ import annotations

from collections.abc import Sequence

Text = str | Sequence[str]  # a sentence, or its tokens


def corpus_bleu(
    hypotheses: Sequence[Text],
    references: Sequence[Text | Sequence[Text]],
    tokenize: str | None = None,
    lowercase: bool = False,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    use_effective_order: bool = False,
) -> float:
    """The BLEU score (0 to 100) of a corpus: n-gram counts are summed over all sentences before
    the precisions are taken, as BLEU is defined (it is not the mean of sentence scores).

    ``references[i]`` holds the reference(s) of ``hypotheses[i]``: one sentence, or a list of
    them (the number may differ between sentences). Sentences are strings or token lists, the
    same kind for hypotheses and references; ``tokenize`` defaults to ``"13a"`` for strings and
    ``"none"`` for token lists. The other options are sacrebleu's (``smooth_method`` one of
    ``"exp"``, ``"floor"``, ``"add-k"``, ``"none"``).
    """
    hyps, refs, tokenize = _prepare(hypotheses, references, tokenize, "corpus_bleu")
    import sacrebleu

    # sacrebleu wants reference streams (the k-th reference of every sentence), padded with None
    n_refs = max(len(r) for r in refs) if refs else 1
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n_refs)]
    return sacrebleu.corpus_bleu(
        hyps,
        streams,
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        lowercase=lowercase,
        tokenize=tokenize,
        use_effective_order=use_effective_order,
    ).score


def sentence_bleu(
    hypothesis: Text,
    references: Text | Sequence[Text],
    tokenize: str | None = None,
    lowercase: bool = False,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    use_effective_order: bool = True,
) -> float:
    """The BLEU score (0 to 100) of one hypothesis against its reference(s). One sentence rarely
    has a matching 4-gram, so by default the precisions are smoothed (``"exp"``) and only the
    n-gram orders the hypothesis has are used (``use_effective_order``), as in sacrebleu."""
    hyps, refs, tokenize = _prepare([hypothesis], [references], tokenize, "sentence_bleu")
    import sacrebleu

    return sacrebleu.sentence_bleu(
        hyps[0],
        refs[0],
        smooth_method=smooth_method,
        smooth_value=smooth_value,
        lowercase=lowercase,
        tokenize=tokenize,
        use_effective_order=use_effective_order,
    ).score


def _prepare(hypotheses, references, tokenize, who: str) -> tuple[list[str], list[list[str]], str]:
    """Hypotheses as strings, references as a list of reference strings per hypothesis, and the tokenizer."""
    if isinstance(hypotheses, str):
        raise TypeError(f"{who}: hypotheses must be a list of sentences, got a single string")
    if isinstance(references, str):
        raise TypeError(f"{who}: references must be a list (one entry per hypothesis), got a single string")
    hypotheses, references = list(hypotheses), list(references)
    if len(hypotheses) != len(references):
        raise ValueError(f"{who}: got {len(hypotheses)} hypotheses but {len(references)} reference entries")
    as_tokens = bool(hypotheses) and not isinstance(hypotheses[0], str)

    def sentence(s, what: str) -> str:
        if as_tokens:
            if isinstance(s, str) or not all(isinstance(t, str) and t and not any(c.isspace() for c in t) for t in s):
                raise TypeError(
                    f"{who}: the hypotheses are token lists, so {what} must be a list of tokens "
                    f"(non-empty strings without spaces), got {s!r}"
                )
            return " ".join(s)
        if not isinstance(s, str):
            raise TypeError(f"{who}: the hypotheses are strings, so {what} must be a string, got {s!r}")
        return s

    hyps = [sentence(h, f"hypothesis {i}") for i, h in enumerate(hypotheses)]
    refs = []
    for i, r in enumerate(references):
        # one reference, or several: a string (or, for tokens, a list of strings) is one
        single = isinstance(r, str) or (as_tokens and all(isinstance(t, str) for t in r))
        group = [r] if single else list(r)
        if not group:
            raise ValueError(f"{who}: hypothesis {i} has no reference")
        refs.append([sentence(g, f"reference of hypothesis {i}") for g in group])
    if tokenize is None:
        tokenize = "none" if as_tokens else "13a"
    return hyps, refs, tokenize
