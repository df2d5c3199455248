"""Load generation: plans, the Locust child process and its parent-side runner."""
