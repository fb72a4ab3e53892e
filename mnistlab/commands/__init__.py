"""The ``python -m mnistlab`` sub-commands, one module each with ``register`` and ``run``."""
