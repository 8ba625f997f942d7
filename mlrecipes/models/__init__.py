"""Keras model builders. Each returns a named, uncompiled `keras.Model`.

The builders are imported on first use, so that a recipe using one of them
does not load the others' libraries (keras-hub and tensorflow-text for the
transformers). Loading a saved VAE needs its classes registered first:
`import mlrecipes.models.vae`.
"""

from __future__ import annotations

from mlrecipes.lazy import lazy_attributes

# Public name -> the module that defines it.
_EXPORTS = {
    "VariationalAutoencoder": "vae",
    "build_bert_masked_lm": "bert",
    "build_finetuning_classifier": "finetuning",
    "build_cnn": "cnn",
    "build_language_model": "language_model",
    "build_mlp": "mlp",
    "build_recurrent_classifier": "recurrent_classifier",
    "build_recurrent_seq2seq": "recurrent_seq2seq",
    "build_resnet": "resnet",
    "build_seq2seq": "seq2seq",
    "build_transformer_classifier": "transformer_classifier",
    "build_vae": "vae",
    "build_vae_decoder": "vae",
    "build_vae_encoder": "vae",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
