"""riskwatch pipeline: from devices' events to warnings people act on, in folders by concern.

Events flow ``ingress`` → ``kafka`` → ``processing`` → ``assess`` → the outputs
(``console``, ``alerting``, ``notify``); ``state`` keeps what survives a crash and
``worker`` is the Faust app that wires them together. ``processing`` and
``assess`` import neither Faust nor Kafka; the worker only moves bytes between
topics and them. The README's "Where things are" maps the folders, and
``tests/unit/test_layers.py`` keeps their import order.
"""
