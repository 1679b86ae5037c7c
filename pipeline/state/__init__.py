"""Worker state that survives a crash: checkpoints, their generations and sync, keys, ledger, revision fence.

It may import ``processing`` (the signal state it saves), ``kafka``,
``assess``, ``devices``, ``schemas``, ``detectors`` and the shared top-level
modules; never ``ingress``, the outputs or the worker (``tests/unit/test_layers.py``).
"""
