"""Spectral normalization (Miyato et al. 2018), PyTorch's classic hook-based API.

A layer's weight ``W`` is replaced by ``W / sigma(W)``, where ``sigma(W)`` is the largest singular
value of ``W`` seen as a matrix (``W`` reshaped to ``[W.shape[dim], -1]``). The layer then has
spectral norm 1, so a network of such layers with 1-Lipschitz activations (ReLU, LeakyReLU) is
itself at most 1-Lipschitz: the constraint a WGAN critic needs, and a stabilizer for GAN
discriminators in general (SNGAN).

Computing ``sigma`` exactly (an SVD) at every step would be costly. Instead two vectors ``u``
(length ``h``) and ``v`` (length ``w``) are kept between steps and refined by power iteration::

    v <- W^T u / ||W^T u||        u <- W v / ||W v||        sigma = u^T W v

Each iteration pulls ``u`` and ``v`` towards the top left and right singular vectors, and
because ``W`` changes little per optimizer step, one iteration per forward keeps them close, so
``sigma`` tracks the largest singular value as training goes.

As in PyTorch, the power iteration runs without gradient tracking and ``u``, ``v`` enter
``sigma`` as constants: the gradient flows to ``W`` through both ``W`` and ``sigma = u^T W v``
(``d sigma / dW = u v^T``), not through the iteration. The iteration only runs in training mode;
in eval mode the stored ``u`` and ``v`` are used as they are, so evaluation changes nothing.

The module's state dict holds ``weight_orig`` (the learned, unnormalized weight: the same
Parameter object as before, so an optimizer made earlier keeps working), and the buffers
``weight_u`` and ``weight_v``; ``module.weight`` becomes a plain tensor recomputed before each
forward by a forward pre-hook.
"""

from __future__ import annotations

from glassgrad._backend import array_module
from glassgrad._creation import randn
from glassgrad._tensor import Tensor
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.nn.modules.conv import ConvTranspose2d
from glassgrad.nn.modules.module import Module
from glassgrad.nn.parameter import Parameter


def _normalize(a, eps: float):
    """``a / max(||a||, eps)`` on an array (PyTorch's ``F.normalize``; eps guards a zero vector)."""
    xp = array_module(a)
    return a / max(float(xp.linalg.norm(a)), eps)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma`` before each
    forward. Made by :func:`spectral_norm`; one per normalized parameter."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12):
        if not isinstance(n_power_iterations, int) or n_power_iterations <= 0:
            raise ValueError(
                "spectral_norm: expected n_power_iterations to be a positive int, "
                f"got n_power_iterations={n_power_iterations!r}"
            )
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def _matrix_array(self, weight):
        """The weight's array as the matrix whose spectral norm is taken: ``dim`` first, the rest
        flattened."""
        xp = array_module(weight)
        w = weight if self.dim == 0 else xp.moveaxis(weight, self.dim, 0)
        return w.reshape(w.shape[0], -1)

    def _matrix(self, weight: Tensor) -> Tensor:
        """The same as :meth:`_matrix_array`, as differentiable tensor ops."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """``<name>_orig / sigma``, after ``n_power_iterations`` steps of the power iteration
        (which update the ``u`` and ``v`` buffers in place) if ``do_power_iteration``."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        if do_power_iteration:
            w_mat = self._matrix_array(weight._data)
            u_arr, v_arr = u._data, v._data
            for _ in range(self.n_power_iterations):
                v_arr = _normalize(w_mat.T @ u_arr, self.eps)
                u_arr = _normalize(w_mat @ v_arr, self.eps)
            with no_grad():
                u.copy_(u_arr)
                v.copy_(v_arr)
        # sigma uses copies of u and v: constants of this forward's graph, which a later
        # forward's in-place update of the buffers must not change under a pending backward
        u_const, v_const = u.detach().clone(), v.detach().clone()
        sigma = u_const @ (self._matrix(weight) @ v_const)
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Make ``module.<name>`` an ordinary Parameter again, holding the current ``W / sigma``."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        """Check ``module`` and ``name``, register ``<name>_orig``, ``<name>_u``, ``<name>_v`` and
        the hook, and return the hook."""
        if not isinstance(module, Module):
            raise TypeError(f"spectral_norm: expected a Module, got {type(module).__name__}")
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"spectral_norm: {type(module).__name__} already has spectral norm on its "
                    f"parameter {name!r}; it cannot be registered twice"
                )
        if name not in module._parameters:
            raise KeyError(
                f"spectral_norm: {type(module).__name__} has no parameter {name!r} "
                f"(its parameters: {', '.join(module._parameters) or 'none'})"
            )
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"spectral_norm: the parameter {name!r} of {type(module).__name__} is None")
        if weight.ndim < 1 or not -weight.ndim <= dim < weight.ndim:
            raise IndexError(
                f"spectral_norm: dim {dim} is out of range for the {weight.ndim}-D parameter "
                f"{name!r} of shape {tuple(weight.shape)}"
            )
        fn = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
        h, w = fn._matrix_array(weight._data).shape
        # random starting vectors, as PyTorch: the first forwards' power iterations refine them
        u = randn(h, dtype=weight.dtype, device=weight.device)
        v = randn(w, dtype=weight.dtype, device=weight.device)
        u._data = _normalize(u._data, eps)
        v._data = _normalize(v._data, eps)

        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        # until the first forward, module.<name> is the raw weight (as in PyTorch)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Normalize ``module.<name>`` by its spectral norm, ``W / sigma(W)``, before every forward,
    with ``sigma`` estimated by ``n_power_iterations`` steps of the power iteration per forward in
    training mode (none in eval mode). ``dim`` is the output dimension, the one kept as rows of
    the matrix: 0 by default, 1 for ConvTranspose2d (whose weight is ``[in, out, kh, kw]``).
    ``eps`` guards the normalizations against a zero vector. Returns ``module``, for
    ``layer = spectral_norm(nn.Linear(4, 3))``.

    The module's state dict then holds ``<name>_orig``, ``<name>_u`` and ``<name>_v`` instead of
    ``<name>``, with PyTorch's names, so a PyTorch model's state dict loads as it is.
    """
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a Parameter again, holding the last
    normalized weight ``<name>_orig / sigma`` (with the stored ``u``, ``v``; no new iteration);
    ``<name>_orig``, ``<name>_u``, ``<name>_v`` and the hook are gone. Returns ``module``."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {type(module).__name__}")
