"""What an optimizer does, step by step: the learning rate it used, how far each step moved the
parameters, the momentum it carries and the adaptive denominators sigma of Adagrad, RMSProp and
Adam (lecture 6: theta <- theta - eta / sigma * g), for plotting.

Wrap a step: ``trace = OptimizerTrace(opt)`` then ``trace.step()`` in place of ``opt.step()``.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg

# per-parameter state that holds "sigma squared" in each optimizer, under PyTorch's names
_SIGMA_SQUARED_KEYS = ("sum", "square_avg", "exp_avg_sq")


class OptimizerTrace:
    """Records, for every step: ``lr`` (per group), ``step_norm`` (||theta_t+1 - theta_t|| over
    all parameters), ``grad_norm``, ``momentum_norm`` (norm of the momentum buffer or Adam's
    first moment) and ``sigma`` (root of the adaptive accumulator: the mean over all elements, and
    the full per-element array when ``keep_arrays``); also the parameters themselves when
    ``keep_params`` (for trajectories of small models)."""

    def __init__(self, optimizer, keep_arrays: bool = False, keep_params: bool = False):
        self.optimizer = optimizer
        self.keep_arrays = keep_arrays
        self.keep_params = keep_params
        self.history: dict[str, list] = {"lr": [], "step_norm": [], "grad_norm": [], "momentum_norm": [],
                                         "sigma_mean": [], "sigma": [], "params": []}

    def _params(self):
        return [p for g in self.optimizer.param_groups for p in g["params"]]

    def step(self, closure=None):
        params = self._params()
        before = [p.detach().numpy().copy() for p in params]
        grads = [None if p.grad is None else p.grad.detach().numpy() for p in params]
        loss = self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        h = self.history
        h["lr"].append([g["lr"] for g in self.optimizer.param_groups])
        h["step_norm"].append(float(np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum()
                                                for p, b in zip(params, before)))))
        h["grad_norm"].append(float(np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in grads if g is not None))))
        momentum, sigma = [], []
        for p in params:
            state = self.optimizer.state.get(p, {})
            m = state.get("momentum_buffer", state.get("exp_avg"))
            if m is not None:
                momentum.append(_array(m))
            for key in _SIGMA_SQUARED_KEYS:
                if key in state:
                    sigma.append(np.sqrt(_array(state[key])))
                    break
        h["momentum_norm"].append(float(np.sqrt(sum((m ** 2).sum() for m in momentum))) if momentum else None)
        if sigma:
            flat = np.concatenate([s.reshape(-1) for s in sigma])
            h["sigma_mean"].append(float(flat.mean()))
            h["sigma"].append(flat.copy() if self.keep_arrays else None)
        else:
            h["sigma_mean"].append(None)
            h["sigma"].append(None)
        if self.keep_params:
            h["params"].append(np.concatenate([p.detach().numpy().reshape(-1).astype(np.float64) for p in params]))
        return loss


def _array(x) -> np.ndarray:
    return x.detach().numpy().astype(np.float64) if isinstance(x, gg.Tensor) else np.asarray(x, dtype=np.float64)
