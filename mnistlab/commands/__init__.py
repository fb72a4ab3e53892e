"""The ``python -m mnistlab`` sub-commands, one module each with ``register`` and ``run``."""

# Every command's register() has the same argparse shape (add_parser with its name, help and description,
# its own options, set_defaults(run=run)) on purpose: each file reads on its own as the whole definition of
# one command, and what they share is argparse's API, not logic. Argument types two commands need are in
# commands/arguments.py.
