"""Why is this run where it is? One status per run from the engine's own numbers.

``facts`` holds the thresholds and records every part shares; ``diagnoser``
watches the runs (ring buffers, running statistics); ``bursts`` finds an
adaptive method's bursts; ``measure`` turns the window into per-run facts;
``rules`` is the ordered list of status rules over those facts.
"""
from .diagnoser import Diagnoser
from .facts import STATUSES, RunDiagnosis

__all__ = ["STATUSES", "Diagnoser", "RunDiagnosis"]
