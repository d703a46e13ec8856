from hypothesis import settings

# Deterministic property tests: CI failures must reproduce locally.
settings.register_profile("default", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("default")
