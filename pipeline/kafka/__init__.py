"""Kafka plumbing: the embedded broker, clients and their security, topics, lag, followers, state store.

Knows brokers, partitions and offsets, not what the events mean. It may import
``schemas`` and pipeline's shared top-level modules (``config``, ``processes``,
``secret_types``), and ``assess`` and ``devices`` below it; never
``processing``, ``ingress``, ``state``, the outputs or the worker
(``tests/unit/test_layers.py``).
"""
