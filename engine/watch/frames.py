"""Which frames a headless playback writes: `--frames 0,40,end` (and `events`).

A frame is named by the step it shows. The list may hold step numbers, `end` (the step
at which every run is done) and `events` (the step of every scripted event that shows
something: a bare pause shows nothing new, and pauses do not stop a headless playback).
Steps past the end are shown at the end. At most MAX_FRAMES frames, so a file with
thousands of events cannot make a playback render for minutes. Pure parsing and planning; the app renders the frames.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from ..errors import ScenarioError
from ..scenario.load import EventSpec
from ..scenario.reader import MAX_STEPS

DEFAULT_FRAMES = "0,events,end"
MAX_FRAMES = 500


class FramePlan(NamedTuple):
    steps: tuple[int, ...]  # sorted, unique step numbers to stop at
    end: bool  # also a frame once every run is done


def parse_frames(spec: str, events: Sequence[EventSpec] = (), file: str = "") -> FramePlan:
    """Parse a frame list; ScenarioError (key --frames) names the bad item (and ``file``, the
    scenario whose events make too many frames)."""
    steps: set[int] = set()
    end = False
    items = [item.strip() for item in spec.split(",")]
    if not any(items):
        raise ScenarioError("--frames", "", "is empty: give steps, 'events' or 'end', e.g. 0,40,end")
    for item in items:
        if not item:
            continue
        if item == "end":
            end = True
        elif item == "events":
            steps.update(e.at for e in events if e.say is not None or e.set or e.focus or e.show)
        else:
            try:
                step = int(item)
            except ValueError:
                raise ScenarioError("--frames", "", f"{item!r} is not a step number, 'events' or 'end'") from None
            if not 0 <= step <= MAX_STEPS:
                raise ScenarioError("--frames", "", f"step {step} is outside 0..{MAX_STEPS}")
            steps.add(step)
    if len(steps) + end > MAX_FRAMES:
        raise ScenarioError(file or "--frames", "--frames" if file else "", f"asks for {len(steps) + end} frames, at most {MAX_FRAMES} "
                                            "(list fewer steps than 'events' gives)")
    return FramePlan(tuple(sorted(steps)), end)


def frame_name(step: int) -> str:
    """The file stem of a frame: frame-000040."""
    return f"frame-{step:06d}"
