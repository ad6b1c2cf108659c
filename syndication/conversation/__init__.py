"""The conversation a published post starts, collected back from its network."""
