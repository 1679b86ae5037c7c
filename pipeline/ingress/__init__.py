"""Device ingress: HTTP ``/ingest``, the MQTT bridge, SenML, the publisher SDK and the OpenAPI description.

Everything that takes events from outside and puts them on the input topics,
validated by the worker's own decoder (:mod:`pipeline.processing.decoding`).
It may import ``kafka``, ``processing``, ``assess``, ``devices``, ``schemas``
and the shared top-level modules; never ``state``, the outputs or the worker
(``tests/unit/test_layers.py``). Its settings types live in
``pipeline.ingress.settings``, which imports no settings.
"""
