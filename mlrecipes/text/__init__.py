"""Text processing for the text recipes: tokenizers that travel with the model."""

from mlrecipes.text.tokenizer import attach_tokenizer, ids_to_texts, learn_tokenizer, vocabulary

__all__ = ["attach_tokenizer", "ids_to_texts", "learn_tokenizer", "vocabulary"]
