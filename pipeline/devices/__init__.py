"""The site and device registry: where each device is, which lines its site has, whom it watches over.

Data flow: a file or ``riskwatch devices set`` → :mod:`.entry` (validated) →
the compacted ``riskwatch.devices`` topic → every worker's :class:`.registry.DeviceRegistry`
→ the limit rules and the impact of the device's readings.
"""
