"""Autoregressive generation with keras-hub samplers: continue a text, or decode a target.

The functions live in [`mlrecipes.generation.decoding`][mlrecipes.generation.decoding] and are re-exported
here, imported on first use, so that the command line can read `SAMPLERS`
without loading TensorFlow.
"""

from __future__ import annotations

from mlrecipes.lazy import lazy_attributes

SAMPLERS = ("greedy", "top_k", "top_p")
"""The sampler names `make_sampler` knows (and `--sampler` accepts)."""

_DECODING_EXPORTS = (
    "context_length",
    "decode_sequences",
    "detokenize",
    "generate_ids",
    "generate_text",
    "make_sampler",
)

__all__ = ["SAMPLERS", *_DECODING_EXPORTS]

__getattr__ = lazy_attributes(__name__, dict.fromkeys(_DECODING_EXPORTS, "decoding"))
