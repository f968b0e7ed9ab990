"""The lecture's general guide, walked on a scenario's own numbers.

    training loss large?
      yes -> does a smaller model (a variant with fewer parameters) reach a
             clearly lower training loss, or does a coarse global search find a
             clearly lower point of this model?
               yes -> is the test loss there higher than this run's?
                        no  -> OPTIMIZATION: the model could fit, the optimizer did not find it
                        yes -> not an optimization failure: go on to "test loss large?"
               no  -> MODEL BIAS: no point of this model fits; make it more flexible
      no  -> test loss large?
               no  -> GOOD: both small
               yes -> do the test data come from a different distribution?
                        yes -> MISMATCH: more data of the training kind will not help
                        no  -> OVERFITTING

Why the extra question: the lecture starts from the training loss because the
goal is the test loss, and a model that cannot fit its training data will not
do well on test data either. That reasoning fails when the closer fit the
guide found is worse on the test data than the run itself: small batches
settling in a flat minimum (Keskar et al., the lecture's batch-size section)
have a higher training loss and a lower test loss than the sharp minimum the
search finds. Calling such a run an optimization failure would send the user
to an optimizer that reaches the sharp minimum and loses on the test data. So
when every clearly lower training loss the guide knows (a smaller model's,
the search's best point's) comes with a higher test loss than the run's, the
verdict comes from the run's test loss instead: GOOD if small, else MISMATCH
or OVERFITTING (fitting closer only generalizes worse). In particular a run
whose test loss is the lowest of every point the guide knows (runs, variants,
the search's best point) is never an optimization failure. Without a test
loss the question cannot be asked and the tree is the lecture's.

Numbers and rules:
- The train loss of a run is its loss at the end; its test loss is
  ``Objective.test_loss`` there (test rows, or the surface shifted by
  ``surface.test_shift``).
- Coarse global search: a grid of ``points`` per axis over the box (<= 2
  parameters) or ``points^2 // 4`` seeded uniform points (more parameters),
  then the best ``refine`` of them descend ``steps`` Adam steps together (one
  vectorized Simulation). The runs' own end points count too. L_best is the
  lowest loss found: an upper bound on the true minimum, found coarsely. The
  box is ``[guide.search.box]``, else the surface's view, else the runs'
  starts widened by 2 max(1, |start|) on each side.
- Base: a known lower bound of the loss (see critical.known_lower_bound), else
  L_best. Typical loss L_typ: the median loss of the search's sample points.
  delta = 0.01 (L_typ - base). Defaults: train_target = base + delta,
  test_target = base + 2 delta; both can be set in [guide].
- "Clearly lower": below L_train - 0.1 (L_train - base). The search also
  counts as showing an optimization problem when it reaches train_target.
- Different test distribution (mismatch), any of: a nonzero
  ``surface.test_shift``; a data column where more than half of the test
  values lie outside the training range; a data column whose test mean is
  more than one training standard deviation from the training mean.
  Otherwise a large test loss is overfitting; the report adds, as evidence,
  a smaller variant whose test loss is lower.

The [guide] table (all keys optional) is read in scenario/analysis_tables.py:
train_target, test_target, lower_bound, search = {points, refine, steps, lr,
box}, and [[guide.variants]] with name, expr, params, start, constants,
optimizer, lr and optimizer keys, steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import ScenarioError
from ..formula.compile import FormulaError
from ..scenario.analysis_tables import GuideConfig, parse_guide
from ..text_format import vector
from .guide_search import (ModelResult, SearchResult, coarse_search, search_box, shift_evidence,
                                        train_variant)
from ..core.simulation import Simulation

VERDICTS = ("model bias", "optimization", "overfitting", "mismatch", "good")
REMEDIES = {
    "model bias": "Make the model more flexible: more features, more parameters, a wider or deeper network.",
    "optimization": ("The model could fit but the optimizer did not find it: try momentum or Adam, another "
                     "learning rate or schedule, other starts; first train a smaller model that is easy to "
                     "optimize and compare."),
    "overfitting": ("More training data, data augmentation, a less flexible model (fewer or shared parameters), "
                    "early stopping, regularization, dropout."),
    "mismatch": ("Training and test data come from different distributions: more training data of the same "
                 "kind will not help; get training data that looks like the test data."),
    "good": "Both losses are small: done.",
}


class Verdict(NamedTuple):
    run: str
    verdict: str
    headline: str
    steps: tuple[str, ...]  # the decision tree as walked, one sentence with numbers per step
    remedy: str
    evidence: dict[str, float]


@dataclass
class GuideReport:
    verdicts: list[Verdict]
    best: int  # index of the run with the lowest training loss
    models: list[ModelResult]
    search: SearchResult | None
    base: float
    base_reason: str
    delta: float
    train_target: float
    test_target: float
    shift: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def main(self) -> Verdict:
        return self.verdicts[self.best]

    def format(self) -> str:
        """Plain text for the command line."""
        lines = [f"General guide (best run: {self.main.run}): {self.main.verdict.upper()}",
                 f"  training loss is 'large' above {self.train_target:.4g}, test loss above {self.test_target:.4g}"
                 f" (base {self.base:.4g}: {self.base_reason})"]
        if self.search is not None:
            lines.append(f"  coarse global search: best loss {self.search.best_loss:.4g} at "
                         f"{vector(self.search.best_point, limit=6)} {self.search.describe()}")
        if len(self.models) > 1:
            lines.append("  models:")
            for m in self.models:
                test = "-" if m.test_loss is None else f"{m.test_loss:.4g}"
                lines.append(f"    {m.name:<16} {m.kind:<8} {m.n_params:>3} params  train {m.train_loss:<10.4g}"
                             f" test {test}")
        for v in self.verdicts:
            lines.append(f"  {v.run}: {v.headline}")
            lines += [f"    - {s}" for s in v.steps]
            lines.append(f"    remedy: {v.remedy}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


# ----- the guide --------------------------------------------------------------------------
def general_guide(scenario, sim: Simulation, config: GuideConfig | None = None, search: bool = True,
                  seed: int | None = None) -> GuideReport:
    """Walk the decision tree for every run of ``sim`` (already stepped) of ``scenario``."""
    from .critical import known_lower_bound

    cfg = config if config is not None else parse_guide(scenario.extra.get("guide"), scenario.path,
                                                        scenario.surface.params,
                                                        scenario.data.columns if scenario.data else ())
    seed = scenario.seed if seed is None else seed
    obj = sim.objective
    train = sim.loss.astype(float)
    tests = obj.test_loss(sim.params)
    n_params = obj.n_params
    models = [ModelResult(name, n_params, float(train[i]), None if tests is None else float(tests[i]), "run")
              for i, name in enumerate(sim.names)]
    for i, v in enumerate(cfg.variants):
        try:
            models.append(train_variant(v, scenario.data, scenario.surface.test_shift, seed))
        except FormulaError as exc:  # parsed at load time; compiling its derivatives can still refuse
            raise ScenarioError(scenario.path, f"guide.variants[{i}].expr", str(exc)) from None
    result = coarse_search(obj, search_box(scenario, cfg.search), cfg.search, seed, sim.params) if search else None
    bound = known_lower_bound(scenario, obj)
    if cfg.lower_bound is not None:
        base, base_reason = cfg.lower_bound, "the [guide] lower_bound"
    elif bound is not None:
        base, base_reason = bound.value, "a lower bound: " + bound.reason
    elif result is not None:
        base, base_reason = result.best_loss, "the best loss the coarse search found"
    else:
        base, base_reason = float(np.nanmin(train)), "the best run's loss"
    typical = result.typical_loss if result is not None and np.isfinite(result.typical_loss) else float(np.nanmax(train))
    delta = 0.01 * max(typical - base, 0.0)
    train_target = cfg.train_target if cfg.train_target is not None else base + delta
    test_target = cfg.test_target if cfg.test_target is not None else base + 2 * delta
    shift = shift_evidence(scenario)
    variants = [m for m in models if m.kind == "variant"]
    bar = _Bar(variants, result, _test_loss_at(obj, result), base, train_target, test_target, shift)
    verdicts = [_walk(sim.names[i], n_params, float(train[i]), None if tests is None else float(tests[i]), bar)
                for i in range(sim.n_runs)]
    finite = np.where(np.isfinite(train), train, np.inf)
    report = GuideReport(verdicts, int(np.argmin(finite)), models, result, base, base_reason, delta,
                         train_target, test_target, shift)
    if tests is None:
        report.notes.append("this scenario has no test loss (add test rows or surface.test_shift), so the guide "
                            "stops at the training loss")
    return report


class _Bar(NamedTuple):
    """What every run of a scenario is measured against."""

    variants: Sequence[ModelResult]
    search: SearchResult | None
    search_test: float | None  # test loss at the search's best point
    base: float
    train_target: float
    test_target: float
    shift: tuple[str, ...]


def _walk(run: str, n_params: int, train: float, test: float | None, bar: _Bar) -> Verdict:
    steps: list[str] = []
    ev: dict[str, float] = {"train_loss": train, "train_target": bar.train_target, "test_target": bar.test_target}
    if test is not None:
        ev["test_loss"] = test
    if not np.isfinite(train) or train > bar.train_target:
        steps.append(f"training loss {train:.4g} is large (above {bar.train_target:.4g})")
        verdict = _training_loss_large(run, n_params, train, test, bar, steps, ev)
        if verdict is not None:
            return verdict
    else:
        steps.append(f"training loss {train:.4g} is small (at most {bar.train_target:.4g})")
    return _test_branch(run, n_params, train, test, bar, steps, ev)


def _training_loss_large(run: str, n_params: int, train: float, test: float | None, bar: _Bar,
                         steps: list[str], ev: dict[str, float]) -> Verdict | None:
    """OPTIMIZATION or MODEL BIAS; None when every closer fit found is worse on the test data."""
    clearly = train - 0.1 * (train - bar.base) if np.isfinite(train) else np.inf
    worse_on_test = False
    smaller = [m for m in bar.variants if m.n_params < n_params and m.train_loss < clearly]
    if smaller:
        m = min(smaller, key=lambda m: m.train_loss)
        ev.update(smaller_train_loss=m.train_loss, smaller_params=float(m.n_params))
        steps.append(f"the smaller model '{m.name}' ({m.n_params} parameters) reaches {m.train_loss:.4g}, "
                     f"clearly lower: a bigger model that contains it should do at least as well")
        if not _generalizes_better(test, m.test_loss, steps, ev):
            return _verdict(run, "optimization", f"optimization: '{m.name}' reaches {m.train_loss:.3g} < {train:.3g}",
                            steps, ev)
        worse_on_test = True
    elif bar.variants:
        steps.append("no smaller model reaches a clearly lower training loss")
    search = bar.search
    if search is not None:
        ev["best_reachable"] = search.best_loss
        if search.best_loss < clearly or search.best_loss <= bar.train_target:
            steps.append(f"a coarse global search finds loss {search.best_loss:.4g} at {vector(search.best_point, limit=6)}: "
                         "this model can fit better than the run did")
            if not _generalizes_better(test, bar.search_test, steps, ev):
                return _verdict(run, "optimization",
                                f"optimization: loss {search.best_loss:.3g} reachable, run {train:.3g}", steps, ev)
            worse_on_test = True
        else:
            steps.append(f"a coarse global search finds nothing clearly lower (best {search.best_loss:.4g})")
    if worse_on_test:
        return None
    bigger = [m for m in bar.variants if m.n_params > n_params and m.train_loss < train]
    if bigger:
        m = min(bigger, key=lambda m: m.train_loss)
        ev["bigger_train_loss"] = m.train_loss
        steps.append(f"the more flexible model '{m.name}' ({m.n_params} parameters) reaches {m.train_loss:.4g}")
    best = search.best_loss if search is not None else train
    return _verdict(run, "model bias", f"model bias: best reachable {best:.3g} > target {bar.train_target:.3g}",
                    steps, ev)


def _generalizes_better(test: float | None, closer_fit_test: float | None, steps: list[str],
                        ev: dict[str, float]) -> bool:
    """True (and says so) when the closer fit's test loss is higher than the run's."""
    if test is None or closer_fit_test is None or not np.isfinite(closer_fit_test) or not test < closer_fit_test:
        return False
    ev["closer_fit_test_loss"] = closer_fit_test
    steps.append(f"but its test loss there is {closer_fit_test:.4g}, higher than this run's {test:.4g}: a closer "
                 "fit of the training data costs test loss here, so this is not an optimization failure")
    return True


def _test_branch(run: str, n_params: int, train: float, test: float | None, bar: _Bar, steps: list[str],
                 ev: dict[str, float]) -> Verdict:
    """GOOD, MISMATCH or OVERFITTING, from the test loss."""
    if test is None:
        steps.append("no test loss to check")
        return _verdict(run, "good", f"good: training loss {train:.3g} (no test loss)", steps, ev)
    if test <= bar.test_target:
        steps.append(f"test loss {test:.4g} is small too (at most {bar.test_target:.4g})")
        return _verdict(run, "good", f"good: train {train:.3g}, test {test:.3g}", steps, ev)
    steps.append(f"test loss {test:.4g} is large (above {bar.test_target:.4g})")
    if bar.shift:
        steps += [f"the test data differ: {s}" for s in bar.shift]
        return _verdict(run, "mismatch", f"mismatch: test {test:.3g} vs train {train:.3g}, data differ", steps, ev)
    steps.append("the test data look like the training data (same ranges and means)")
    less = [m for m in bar.variants if m.n_params < n_params and m.test_loss is not None and m.test_loss < test]
    if less:
        m = min(less, key=lambda m: m.test_loss)
        ev["smaller_test_loss"] = float(m.test_loss)
        steps.append(f"the less flexible model '{m.name}' ({m.n_params} parameters) has test loss "
                     f"{m.test_loss:.4g}, lower")
    return _verdict(run, "overfitting", f"overfitting: test {test:.3g} vs train {train:.3g}", steps, ev)


def _test_loss_at(obj, search: SearchResult | None) -> float | None:
    """The test loss at the coarse search's best point (None without a search or a test loss)."""
    if search is None:
        return None
    with np.errstate(all="ignore"):
        test = obj.test_loss(np.asarray(search.best_point, dtype=np.float64)[None, :])
    return None if test is None else float(test[0])


def _verdict(run: str, verdict: str, headline: str, steps: list[str], ev: dict[str, float]) -> Verdict:
    head = headline if len(headline) < 60 else headline[:58] + "…"
    return Verdict(run, verdict, head, tuple(steps), REMEDIES[verdict], ev)
