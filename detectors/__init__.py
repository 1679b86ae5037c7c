"""riskwatch detectors: pure online anomaly models on River, usable with no broker.

Import what you need from the submodules, e.g.::

    from detectors.ewma import EwmaZScore
    from detectors.series import SeriesDetectors
"""
