"""Making a trained classifier smaller and faster, and shipping it.

- `mlrecipes.compression.quantization`: Keras post-training quantization (int8, int4) of a copy.
- `mlrecipes.compression.pruning`: magnitude pruning to a target sparsity while fine-tuning.
- `mlrecipes.compression.distillation`: the teacher's softened outputs as a student's targets.
- `mlrecipes.compression.litert`: `.tflite` export (float32, dynamic-range int8, full int8)
  and running it with the LiteRT interpreter (`ai-edge-litert`).
- `mlrecipes.compression.serving`: a SavedModel laid out for TensorFlow Serving.
- `mlrecipes.compression.measure`: sizes, agreement and latency of the variants.
- `mlrecipes.compression.run_data`: the data of the run being compressed, loaded again.
"""
