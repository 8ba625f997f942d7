"""Keras model builders. Each returns a named, uncompiled ``keras.Model``."""

from mlrecipes.models.mlp import build_mlp

__all__ = ["build_mlp"]
