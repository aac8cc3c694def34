"""Log-probabilities of a small label set at answer positions, without full [rows x vocab] logits."""
