from hypothesis import settings

# Deterministic property tests: CI failures must reproduce locally.
settings.register_profile("default", derandomize=True, deadline=None, max_examples=100)
settings.load_profile("default")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_activation_registry():
    """A test that registers an activation must not leak it into later tests (which list
    ``initmath.activation_names()``)."""
    from initmath.theory import activations

    saved = dict(activations._REGISTRY)
    yield
    activations._REGISTRY.clear()
    activations._REGISTRY.update(saved)
