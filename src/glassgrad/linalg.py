"""``glassgrad.linalg``: linear-algebra functions under PyTorch's ``torch.linalg`` names.

    import glassgrad as gg
    gg.linalg.vector_norm(gg.tensor([3.0, -4.0]))  # tensor(5.)
"""

from glassgrad.functions.reduction import vector_norm

__all__ = ["vector_norm"]
