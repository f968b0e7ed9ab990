"""The general guide as the lecture draws it: a decision tree with the path taken lit up.

Formats an engine GuideReport (optsim.engine.analysis.guide) for the guide screen. Only formatting
here: which branch was taken follows from the engine's verdict, the numbers are the
engine's evidence and sentences.
"""

from __future__ import annotations


from ...engine.analysis.guide import GuideReport, Verdict
from ...engine.text_format import sig, vector
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

VERDICT_STYLE = {
    "good": "bold green",
    "overfitting": "bold yellow",
    "mismatch": "bold magenta",
    "optimization": "bold cyan",
    "model bias": "bold red",
}
TAKEN = "bold"
NOT_TAKEN = "dim"
OFF_PATH_GUIDE = "dim not bold"  # guides combine with their parent's: switch bold off explicitly
PATH_GUIDE = "bold bright_white"


def fmt(x: float | None) -> str:
    return sig(x, 4, missing_nan=False)


def _node(text: str, taken: bool, note: str = "", leaf: str | None = None) -> Text:
    """One question or answer of the tree; `leaf` is a verdict name that ends the branch."""
    out = Text("▶ " if taken else "  ", style="bold" if taken else OFF_PATH_GUIDE)
    out.append(text, style=TAKEN if taken else OFF_PATH_GUIDE)
    if leaf is not None:
        out.append(" → ", style=TAKEN if taken else OFF_PATH_GUIDE)
        out.append(leaf.upper(), style=VERDICT_STYLE[leaf] if taken else OFF_PATH_GUIDE)
    if note:
        out.append("  ")
        out.append(note, style="italic" if taken else OFF_PATH_GUIDE)
    return out


def decision_tree(verdict: Verdict, has_test: bool) -> Tree:
    """The lecture's tree; the branch the engine took is bold with a bright guide, the rest dim."""
    v = verdict.verdict
    ev = verdict.evidence
    train_large = v in ("model bias", "optimization")
    test_large = v in ("overfitting", "mismatch")
    root = Tree(Text.assemble(("Training loss large?", "bold"), "  ",
                              (f"train {fmt(ev.get('train_loss'))} vs target {fmt(ev.get('train_target'))}",
                               "italic")),
                guide_style=PATH_GUIDE)

    yes = root.add(_node("yes: could this model fit at all?", train_large),
                   guide_style=PATH_GUIDE if train_large else OFF_PATH_GUIDE)
    found = []
    if "smaller_train_loss" in ev:
        found.append(f"smaller model {fmt(ev['smaller_train_loss'])}")
    if "best_reachable" in ev:
        found.append(f"global search best {fmt(ev['best_reachable'])}")
    note = ", ".join(found) if train_large else ""
    yes.add(_node("a smaller model or a global search gets clearly lower", v == "optimization",
                  note if v == "optimization" else "", "optimization"))
    bigger = f"more flexible model {fmt(ev['bigger_train_loss'])}" if "bigger_train_loss" in ev else ""
    yes.add(_node("nothing clearly lower", v == "model bias",
                  ", ".join(x for x in (note, bigger) if x) if v == "model bias" else "", "model bias"))

    no = root.add(_node("no: training loss small", not train_large), guide_style=PATH_GUIDE if not train_large
                  else OFF_PATH_GUIDE)
    if not has_test:
        no.add(_node("Testing loss large?  no test loss in this scenario: the guide stops here",
                     not train_large, leaf="good" if not train_large else None))
        return root
    test = no.add(_node("Testing loss large?", not train_large,
                        f"test {fmt(ev.get('test_loss'))} vs target {fmt(ev.get('test_target'))}"
                        if not train_large else ""),
                  guide_style=PATH_GUIDE if not train_large else OFF_PATH_GUIDE)
    tyes = test.add(_node("yes: do test data come from another distribution?", test_large),
                    guide_style=PATH_GUIDE if test_large else OFF_PATH_GUIDE)
    tyes.add(_node("yes, they differ", v == "mismatch", leaf="mismatch"))
    smaller = f"a less flexible model tests {fmt(ev['smaller_test_loss'])}" if "smaller_test_loss" in ev else ""
    tyes.add(_node("no, same kind of data", v == "overfitting", smaller if v == "overfitting" else "",
                   "overfitting"))
    test.add(_node("no: both small", v == "good", leaf="good"))
    return root


def verdict_headline(verdict: Verdict, is_best: bool) -> Text:
    out = Text.assemble(("Run ", "bold"), (verdict.run, "bold"), " (best run)" if is_best else "",
                        ": ", (verdict.verdict.upper(), VERDICT_STYLE[verdict.verdict]), "  ")
    # the headline starts with the verdict word already shown: keep its numbers
    numbers = verdict.headline.split(": ", 1)[1] if ": " in verdict.headline else verdict.headline
    out.append(numbers, style="italic")
    return out


def models_table(report: GuideReport) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("model", "left"), ("kind", "left"), ("params", "right"), ("train loss", "right"),
                          ("test loss", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for m in report.models:
        table.add_row(m.name, m.kind, str(m.n_params), fmt(m.train_loss), fmt(m.test_loss))
    return table


def _indent(item: RenderableType | str) -> Padding:
    return Padding(Text(item) if isinstance(item, str) else item, (0, 0, 0, 2))


def guide_body(report: GuideReport, index: int) -> RenderableType:
    """Everything the screen shows for run `index`: verdict, tree, remedy, why, evidence, other runs."""
    verdict = report.verdicts[index]
    has_test = "test_loss" in verdict.evidence  # the engine records it exactly when there is a test loss
    parts: list[RenderableType] = [verdict_headline(verdict, index == report.best), Text(""),
                                   decision_tree(verdict, has_test), Text("")]
    parts.append(Text.assemble(("Remedy: ", "bold"), (verdict.remedy, VERDICT_STYLE[verdict.verdict])))
    parts.append(Text(""))
    parts.append(Text("How the guide decided", style="bold underline"))
    parts += [_indent(Text(f"• {s}")) for s in verdict.steps]
    parts.append(Text(""))
    parts.append(Text("Evidence", style="bold underline"))
    parts.append(_indent(f"'large' means training loss above {report.train_target:.4g}, test loss above "
                      f"{report.test_target:.4g} (base {report.base:.4g}: {report.base_reason})"))
    if report.search is not None:
        s = report.search
        parts.append(_indent(f"coarse global search: best loss {s.best_loss:.4g} at {vector(s.best_point, limit=6, more=', …')} "
                          f"{s.describe()}"))
    if report.shift:
        parts += [_indent(f"test data differ: {s}") for s in report.shift]
    elif has_test:
        parts.append(_indent("test data: same ranges and means as the training data (no shift)"))
    parts.append(_indent(models_table(report)))
    if len(report.verdicts) > 1:
        parts.append(Text(""))
        parts.append(Text("Every run", style="bold underline"))
        for i, v in enumerate(report.verdicts):
            line = Text("▶ " if i == index else "  ")
            line.append(f"{v.run}: ", style="bold")
            line.append(v.verdict.upper(), style=VERDICT_STYLE[v.verdict])
            line.append("  ")
            line.append(v.headline, style="italic")
            parts.append(line)
    for note in report.notes:
        parts.append(Text(f"Note: {note}", style="italic"))
    return Group(*parts)
