"""riskwatch pipeline: the Faust app, its configuration, the embedded broker, the CLI.

Pure decision logic lives in modules that import neither Faust nor Kafka
(``decoding``, ``assessment``, ``processing``); the Faust layer (``app``)
only moves bytes between topics and those modules.
"""
