"""Results: the JSON contract, and renderings of it for people."""
