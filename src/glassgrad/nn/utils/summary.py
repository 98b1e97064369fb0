"""Counting parameters and printing a model's layers with their sizes."""

from __future__ import annotations

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.modules.module import Module


def parameter_count(model: Module, trainable_only: bool = False) -> int:
    """The number of scalar parameters of ``model`` (shared parameters counted once); with
    ``trainable_only``, only those that require grad."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def summary(model: Module, *inputs) -> str:
    """A table of the model's leaf modules with their parameter counts, and the totals. Given
    example ``inputs``, the model is run on them once (under no_grad, in eval mode, then put back
    in its mode) and each layer's output shape is listed as well, found with forward hooks."""
    leaves = [(name, m) for name, m in model.named_modules() if name and not m._modules]
    if not leaves:
        leaves = [("", model)]
    shapes = {}
    if inputs:

        def record(name):
            def hook(module, args, out):  # returns None: the output is left as it is
                shapes.setdefault(name, _shape_of(out))

            return hook

        handles = [m.register_forward_hook(record(name)) for name, m in leaves]
        was_training = model.training
        try:
            model.eval()
            with no_grad():
                model(*inputs)
        finally:
            model.train(was_training)
            for h in handles:
                h.remove()
    rows = [("Layer", "Type", "Output shape", "Params")] if inputs else [("Layer", "Type", "Params")]
    for name, m in leaves:
        count = f"{sum(p.numel() for p in m.parameters(recurse=False)):,}"
        row = (name or "(model)", type(m).__name__)
        rows.append(row + ((str(shapes.get(name, "-")), count) if inputs else (count,)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.rjust(w) if i == len(r) - 1 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    rule = "=" * len(lines[0])
    total, trainable = parameter_count(model), parameter_count(model, trainable_only=True)
    return "\n".join(
        [
            rule,
            lines[0],
            rule,
            *lines[1:],
            rule,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
        ]
    )


def _shape_of(out):
    if hasattr(out, "shape"):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)):
        return [_shape_of(o) for o in out]
    return type(out).__name__
