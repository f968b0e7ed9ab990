"""The one record of a run's settings: read from a file, stepped by the simulation, edited
in the app. Validation lives in engine.scenario.run_rules (one set of messages)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ..optim.registry import get_optimizer


@dataclass(frozen=True)
class RunSettings:
    """One run: where it starts, how it steps, and for how long."""

    name: str
    optimizer: str = "sgd"
    hyper: Mapping[str, Any] = field(default_factory=dict)  # lr and the optimizer's own keys, as written
    start: tuple[float, ...] = (0.0, 0.0)
    steps: int = 100
    batch_size: int | None = None  # with data; None = the full batch
    noise: float = 0.0  # std of Gaussian noise added to each gradient
    schedule: Mapping[str, Any] | None = None

    @property
    def lr(self) -> float:
        return float(self.hyper.get("lr", get_optimizer(self.optimizer).defaults["lr"]))

    def values(self) -> dict[str, Any]:
        """The settings as a [[runs]] table holds them (hyperparameters flat beside the run keys),
        without the keys left at their defaults; the run rules validate this form."""
        out: dict[str, Any] = {"name": self.name, "optimizer": self.optimizer, **self.hyper,
                               "start": self.start, "steps": self.steps}
        if self.batch_size is not None:
            out["batch_size"] = self.batch_size
        if self.noise:
            out["noise"] = self.noise
        if self.schedule:
            out["schedule"] = dict(self.schedule)
        return out
