"""Cross-entropy of target tokens from final hidden states and the LM head, without [tokens x vocab] logits."""
