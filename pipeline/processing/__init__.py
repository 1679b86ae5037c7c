"""From an input message to signals and warnings: decoding, signals, the live detector, the processor.

:class:`pipeline.processing.processor.EventProcessor` is what the worker calls
for every message. Pure like ``assess``: no Faust, aiokafka or kafka-python
import here. It may import ``assess``, ``devices``, ``kafka`` (topic names),
``schemas``, ``detectors`` and the shared top-level modules; never ``ingress``,
``state``, the outputs or the worker (``tests/unit/test_layers.py``).
"""
