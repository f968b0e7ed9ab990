"""The run editor: optimizer, learning rate, the optimizer's hyperparameters, the schedule,
steps, noise, batch size and start of one run (or of a new run), as a modal form.

The form is checked by the rules a scenario file's runs and scripted `set` tables follow
(Session.check_settings, engine.scenario.run_rules), so a bad value reads the same everywhere; a
problem is shown under the form with the key it concerns and the form stays open. It returns
only what changed (a dict for an edit, the RunSettings of a new run); the simulator applies it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ...engine.errors import ScenarioError
from ...engine.optim.registry import OPTIMIZERS
from ...engine.optim.schedules import KINDS, REQUIRED, WARMUP
from ...engine.watch.session import Session
from ...engine.core.run_settings import RunSettings


# ---------------------------------------------------------------------------- parsing (pure)


def parse_number(text: str, key: str) -> int | float:
    """A number as typed: whole numbers stay ints (step counts), others are floats."""
    t = text.strip()
    if not t:
        raise ValueError(f"{key}: is empty")
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"{key}: {t!r} is not a number") from None


def parse_numbers(text: str, key: str) -> tuple:
    """'0.9, 0.999' -> (0.9, 0.999)."""
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError(f"{key}: is empty")
    return tuple(parse_number(p, key) for p in parts)


def format_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def effective_hyper(cfg: RunSettings) -> dict[str, Any]:
    """Every hyperparameter of the run's optimizer: its own values over the defaults."""
    spec = OPTIMIZERS[cfg.optimizer]
    out = dict(spec.defaults)
    out.update(cfg.hyper)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    return a == b


def changed_values(cfg: RunSettings, optimizer: str, hyper: dict[str, Any], schedule: dict[str, Any],
                   extra: dict[str, Any]) -> dict[str, Any]:
    """What differs from the run as it is: the keys to hand to Session.edit_run."""
    out: dict[str, Any] = {}
    if optimizer != cfg.optimizer:
        defaults = OPTIMIZERS[optimizer].defaults
        out["optimizer"] = optimizer
        out.update({k: v for k, v in hyper.items() if k == "lr" or not _same(v, defaults[k])})
    else:
        current = effective_hyper(cfg)
        out.update({k: v for k, v in hyper.items() if not _same(v, current.get(k))})
    current_schedule = dict(cfg.schedule or {})
    if not _same_schedule(schedule, current_schedule):
        out["schedule"] = schedule
    for key, value in extra.items():
        now = cfg.start if key == "start" else getattr(cfg, key)
        if not _same(value, now):
            out[key] = value
    return out


def _normal_schedule(spec: dict[str, Any]) -> dict[str, Any]:
    """A schedule with its kind's defaults filled in, so equal schedules compare equal."""
    kind = spec.get("kind", "constant")
    out = {k: d for k, d in KINDS.get(kind, {}).items() if d is not REQUIRED}
    out.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in spec.items() if k != "warmup"})
    out["kind"] = kind
    if spec.get("warmup"):
        out["warmup"] = {"start_factor": WARMUP["start_factor"], **spec["warmup"]}
    return out


def _same_schedule(a: dict[str, Any], b: dict[str, Any]) -> bool:
    na, nb = _normal_schedule(a), _normal_schedule(b)
    return na.keys() == nb.keys() and all(_same(na[k], nb[k]) for k in na)


def _is_plain(spec: dict[str, Any]) -> bool:
    """True for a constant rate without warm-up (the run needs no schedule at all)."""
    return spec.get("kind", "constant") == "constant" and not spec.get("warmup")


# ---------------------------------------------------------------------------- the form


def CInput(value: str = "", **kwargs: Any) -> Input:
    """A one-line input (no border), so the whole form fits a small terminal."""
    return Input(value, compact=True, **kwargs)


class EditRunScreen(ModalScreen):
    """Edit the run `run` of the session (or, with run None, make a new one like the run
    `template`). Dismisses with the changes (dict), the new RunSettings, or None."""

    CSS_PATH = "edit_run.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "apply", "Apply", show=False),
    ]

    def __init__(self, session: Session, run: int | None, template: int) -> None:
        super().__init__()
        self.session = session
        self.run = run
        template = session.sim.configs[template if run is None else run]
        self.cfg = template
        self.new = run is None
        self.optimizer = template.optimizer
        self.kind = (template.schedule or {}).get("kind", "constant")
        self._values: dict[str, Any] = effective_hyper(template)

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        cfg = self.cfg
        title = "New run" if self.new else f"Edit run {cfg.name!r}"
        with Vertical(id="dialog"):
            yield Static(title, id="title")
            with VerticalScroll(id="form"):
                if self.new:
                    yield self._row("name", CInput(self.session.new_run_name(cfg.name), id="f-name"))
                yield self._row("optimizer", Select([(n, n) for n in OPTIMIZERS], value=self.optimizer,
                                                    allow_blank=False, compact=True, id="f-optimizer"))
                yield Vertical(*self._hyper_rows(), id="hyper")
                yield Static("schedule", classes="section")
                yield self._row("kind", Select([(k, k) for k in KINDS], value=self.kind, allow_blank=False,
                                               compact=True, id="f-kind"))
                yield Vertical(*self._schedule_rows(), id="schedule")
                warm = (cfg.schedule or {}).get("warmup") or {}
                yield self._row("warmup steps", CInput(format_value(warm.get("steps", "")), id="w-steps",
                                                      placeholder="none"))
                yield self._row("warmup factor", CInput(format_value(warm.get("start_factor", "")),
                                                       id="w-start_factor", placeholder=f"{WARMUP['start_factor']:.3g}"))
                yield Static("run", classes="section")
                yield self._row("steps", CInput(str(cfg.steps), id="x-steps"))
                yield self._row("noise", CInput(format_value(cfg.noise), id="x-noise"))
                data = self.session.objective.data
                if data is not None:
                    yield self._row("batch size", CInput(str(cfg.batch_size or data.n_train), id="x-batch_size"))
                yield self._row("start", CInput(format_value(cfg.start), id="x-start"))
                yield Static("A new start puts the run back on it.", classes="hint")
            with Vertical(id="bottom"):
                yield Static("", id="error")
                with Horizontal(id="buttons"):
                    yield Static("enter applies · esc cancels", id="keys-hint")
                    yield Button("Apply", variant="primary", id="apply")
                    yield Button("Cancel", id="cancel")

    @staticmethod
    def _row(label: str, widget) -> Horizontal:
        return Horizontal(Label(label, classes="label"), widget, classes="row")

    def _hyper_rows(self) -> list[Horizontal]:
        spec = OPTIMIZERS[self.optimizer]
        rows = []
        for key, default in spec.defaults.items():
            value = self._values.get(key, default)
            if isinstance(default, bool):
                widget = Checkbox("", value=bool(value), compact=True, id=f"h-{key}")
            else:
                widget = CInput(format_value(value), id=f"h-{key}")
            rows.append(self._row(key, widget))
        return rows

    def _schedule_rows(self) -> list[Horizontal]:
        current = self.cfg.schedule or {}
        same = current.get("kind", "constant") == self.kind
        rows = []
        for key, default in KINDS[self.kind].items():
            value = current.get(key) if same and key in current else (None if default is REQUIRED else default)
            rows.append(self._row(key, CInput("" if value is None else format_value(value), id=f"s-{key}",
                                             placeholder="required" if default is REQUIRED else "")))
        return rows

    def on_mount(self) -> None:
        first = self.query_one("#f-name" if self.new else "#h-lr")
        first.focus()

    # ------------------------------------------------------------------ reacting

    @on(Select.Changed, "#f-optimizer")
    async def _optimizer_changed(self, event: Select.Changed) -> None:
        if event.value == self.optimizer:
            return
        self._remember_hyper()
        self.optimizer = str(event.value)
        spec = OPTIMIZERS[self.optimizer]
        # Keys the new optimizer shares keep what was typed; the rest take its defaults.
        self._values = {k: self._values.get(k, d) if k in self._shared() else d for k, d in spec.defaults.items()}
        self._values["lr"] = self._typed_lr()
        box = self.query_one("#hyper", Vertical)
        await box.remove_children()
        await box.mount_all(self._hyper_rows())

    def _shared(self) -> set[str]:
        return {"lr", "weight_decay", "eps", "momentum", "betas"}

    def _typed_lr(self) -> Any:
        try:
            return parse_number(self.query_one("#h-lr", Input).value, "lr")
        except ValueError:
            return self._values.get("lr")

    def _remember_hyper(self) -> None:
        for widget in self.query("#hyper Input, #hyper Checkbox"):
            key = widget.id[2:]
            self._values[key] = widget.value

    @on(Select.Changed, "#f-kind")
    async def _kind_changed(self, event: Select.Changed) -> None:
        if event.value == self.kind:
            return
        self.kind = str(event.value)
        box = self.query_one("#schedule", Vertical)
        await box.remove_children()
        await box.mount_all(self._schedule_rows())

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#apply")
    def _apply_pressed(self) -> None:
        self.action_apply()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    # ------------------------------------------------------------------ reading the form

    def _read(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(hyper, schedule, extra) as typed; ValueError names the field."""
        spec = OPTIMIZERS[self.optimizer]
        hyper: dict[str, Any] = {}
        for key, default in spec.defaults.items():
            widget = self.query_one(f"#h-{key}")
            if isinstance(default, bool):
                hyper[key] = bool(widget.value)
            elif isinstance(default, tuple):
                hyper[key] = parse_numbers(widget.value, key)
            else:
                hyper[key] = parse_number(widget.value, key)
        schedule: dict[str, Any] = {"kind": self.kind}
        for key, default in KINDS[self.kind].items():
            text = self.query_one(f"#s-{key}", Input).value.strip()
            if not text:
                if default is REQUIRED:
                    raise ValueError(f"schedule.{key}: is missing (kind {self.kind!r} needs it)")
                continue
            value = list(parse_numbers(text, f"schedule.{key}")) if key == "milestones" else \
                parse_number(text, f"schedule.{key}")
            if default is REQUIRED or not _same(value, default):
                schedule[key] = value
        steps_text = self.query_one("#w-steps", Input).value.strip()
        if steps_text:
            warmup = {"steps": parse_number(steps_text, "warmup.steps")}
            factor = self.query_one("#w-start_factor", Input).value.strip()
            if factor:
                warmup["start_factor"] = parse_number(factor, "warmup.start_factor")
            schedule["warmup"] = warmup
        extra: dict[str, Any] = {
            "steps": parse_number(self.query_one("#x-steps", Input).value, "steps"),
            "noise": float(parse_number(self.query_one("#x-noise", Input).value, "noise")),
            "start": tuple(float(v) for v in parse_numbers(self.query_one("#x-start", Input).value, "start")),
        }
        data = self.session.objective.data
        if data is not None:
            batch = parse_number(self.query_one("#x-batch_size", Input).value, "batch size")
            if not (batch == data.n_train and self.cfg.batch_size is None):
                extra["batch_size"] = batch
        return hyper, schedule, extra

    def _show_error(self, message: str) -> None:
        error = self.query_one("#error", Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    def action_apply(self) -> None:
        try:
            hyper, schedule, extra = self._read()
            if self.new:
                result = self._new_run(hyper, schedule, extra)
            else:
                result = changed_values(self.cfg, self.optimizer, hyper, schedule, extra)
                self.session.check_settings(self.run, result, self.cfg.optimizer)
        except ScenarioError as exc:
            key = exc.key.removeprefix("run.")
            self._show_error(f"{key}: {exc.message}" if key else exc.message)
            return
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.dismiss(result)

    def _new_run(self, hyper: dict[str, Any], schedule: dict[str, Any], extra: dict[str, Any]) -> RunSettings:
        name = self.query_one("#f-name", Input).value.strip()
        defaults = OPTIMIZERS[self.optimizer].defaults
        written = {k: v for k, v in hyper.items() if k == "lr" or not _same(v, defaults[k])}
        changes = {**written, "name": name, **extra}
        if not _is_plain(schedule):
            changes["schedule"] = schedule
        self.session.check_settings(None, changes, self.optimizer)
        return RunSettings(name=name, optimizer=self.optimizer, hyper=written, start=extra["start"],
                         steps=int(extra["steps"]), batch_size=extra.get("batch_size"),
                         noise=extra["noise"], schedule=None if _is_plain(schedule) else schedule)

    def action_cancel(self) -> None:
        self.dismiss(None)
