"""Tools to look inside training: critical points and Hessians, loss landscapes, and what an
optimizer does step by step. They work on any model or any function of tensors."""

from glassgrad.analysis.critical import (
    CriticalPointReport,
    classify,
    critical_point,
    critical_point_of,
    escape_saddle,
    hessian_of,
    hvp_operator,
)
from glassgrad.analysis.landscape import (
    loss_at_function,
    loss_line,
    loss_plane,
    model_loss_at,
    project_trajectory,
    random_directions,
)
from glassgrad.analysis.optimizer_trace import OptimizerTrace
