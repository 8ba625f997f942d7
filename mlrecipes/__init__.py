"""mlrecipes: Keras model builders, data loaders and runnable training recipes.

The library holds the parts every recipe shares (command line, data loading,
distribution strategy, training loop set-up, plots and run outputs); the recipes
in the `recipes` package hold the lesson: the model and the data pipeline.
"""

import os as _os

# TensorFlow's C++ start-up messages (CPU instruction sets, CUDA probing) drown
# the recipes' own output; show warnings and errors only unless asked otherwise.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
