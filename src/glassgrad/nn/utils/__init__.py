"""Helpers around modules: gradient clipping, parameter vectors, parameter counts and summaries,
spectral normalization, and ``rnn`` (padding and packing batches of sequences)."""

from glassgrad.nn.utils import rnn
from glassgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
from glassgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from glassgrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from glassgrad.nn.utils.summary import parameter_count, summary

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameter_count",
    "parameters_to_vector",
    "remove_spectral_norm",
    "rnn",
    "spectral_norm",
    "summary",
    "vector_to_parameters",
]
