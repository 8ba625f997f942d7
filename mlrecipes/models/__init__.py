"""Keras model builders. Each returns a named, uncompiled ``keras.Model``."""

from mlrecipes.models.cnn import build_cnn
from mlrecipes.models.language_model import build_language_model
from mlrecipes.models.mlp import build_mlp
from mlrecipes.models.resnet import build_resnet
from mlrecipes.models.seq2seq import build_seq2seq
from mlrecipes.models.transformer_classifier import build_transformer_classifier
from mlrecipes.models.vae import VariationalAutoencoder, build_vae, build_vae_decoder, build_vae_encoder

__all__ = [
    "VariationalAutoencoder",
    "build_cnn",
    "build_language_model",
    "build_mlp",
    "build_resnet",
    "build_seq2seq",
    "build_transformer_classifier",
    "build_vae",
    "build_vae_decoder",
    "build_vae_encoder",
]
