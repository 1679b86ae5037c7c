"""The Faust worker: the app that wires topics to the processor, readiness, log throttling, bounded shutdown.

The top of the house: it may import every other package; nothing but the
commands imports it (``tests/unit/test_layers.py``).
"""
