"""mnistlab: the tested helpers behind the handwritten-digit recognition course."""

__version__ = "0.1.0"
