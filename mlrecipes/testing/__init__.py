"""Small data sets for tests, benchmarks and trying a recipe on files of your own.

- `write_idx`: arrays as MNIST-format IDX files (`--data-dir` of the MNIST recipes).
- `write_idx_subset`, `stratified_subset`: a seeded, stratified part of an IDX folder's training
  images (the test files whole), to try a recipe on a small data set.
- `write_python_folder`: images in the CIFAR-10 python layout (`--data-dir` of cifar10_resnet).
- `addition_pairs`: sums of two numbers as text and their results (`--data-file` of
  seq2seq, keras.io's addition task for recurrent networks).
- `date_pairs`: dates in words and their ISO 8601 form (`--data-file` of seq2seq, with
  [`mlrecipes.data.sentence_pairs.write_pairs`][mlrecipes.data.sentence_pairs.write_pairs]).
"""

from mlrecipes.testing.addition import addition_pairs
from mlrecipes.testing.cifar_files import write_python_folder
from mlrecipes.testing.dates import date_pairs
from mlrecipes.testing.idx_files import stratified_subset, write_idx, write_idx_subset

__all__ = ["addition_pairs", "date_pairs", "stratified_subset", "write_idx", "write_idx_subset", "write_python_folder"]
