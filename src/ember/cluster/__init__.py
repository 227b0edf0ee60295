"""ember.cluster: nodes connected over ZeroMQ (work in progress).

What exists so far: the phi-accrual failure detector that membership will use.
"""

from ._phi import PhiAccrualDetector, PhiSettings

__all__ = ["PhiAccrualDetector", "PhiSettings"]
