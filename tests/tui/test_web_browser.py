"""`optsim serve` in a real browser: Debian's Chromium, headless, driven by Playwright.

The test starts `optsim serve` on 127.0.0.1 and a free port, opens the page, waits for the
scenario picker to appear in the page's terminal, opens the highlighted scenario with
enter, steps it with n, plays it with space and quits with q, reading the terminal after
each key. It needs /usr/bin/chromium (`apt-get install chromium`; `.ci/run` installs it) and
fails, not skips, without it. Playwright's own browser downloads are never used.

The page draws its terminal (xterm.js) on a canvas, so the text is read from xterm.js's
screen buffer: the test hands the page textual-serve's own script with one addition that
keeps the terminal object in `window.optsimTerminal`. Every request that would leave
127.0.0.1 (the page asks for a web font) is refused, so the test never touches the network.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = Path(os.environ.get("OPTSIM_CHROMIUM", "/usr/bin/chromium"))
TERMINAL_OPEN = "this.terminal.open(e)"
SCREEN_JS = """() => {
    const term = window.optsimTerminal;
    if (!term) return "";
    const buffer = term.buffer.active, rows = [];
    for (let y = 0; y < term.rows; y++) rows.push(buffer.getLine(buffer.viewportY + y).translateToString(true));
    return rows.join("\\n");
}"""
PICKER_WORDS = ("pick a scenario", "Built-in scenarios", "Open", "Quit")  # title, list, footer
STEP = re.compile(r"(playing|paused|done)\s+step (\d+)/(\d+)")
FOREIGN = "http://evil.example"  # never contacted: the test's route answers for it
# Chromium's own Local Network Access check would also stop a public page from reaching
# 127.0.0.1, but not every browser has it and the user can allow it: switch it off, so
# that what is tested is the server's refusal.
NO_LOCAL_NETWORK_CHECKS = "--disable-features=LocalNetworkAccessChecks,LocalNetworkAccessChecksWebSockets"
TRY_WEBSOCKET = """(url) => new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.onopen = () => { ws.close(); resolve("opened"); };
    ws.onerror = () => resolve("refused");
    setTimeout(() => resolve("no answer"), 10000);
})"""
SHOTS = Path(os.environ.get("OPTSIM_WEB_SHOTS", "")) if os.environ.get("OPTSIM_WEB_SHOTS") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"optsim serve exited with code {server.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"optsim serve did not listen on 127.0.0.1:{port} within {timeout} s")


def stop(server: subprocess.Popen) -> None:
    """End the server and the app processes it started (its own process group)."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def served_url(tmp_path) -> Iterator[str]:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "optsim.tui.cli", "serve", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(server)
        log.close()


def local_only(route: Route) -> None:
    """Refuse what would leave this machine; hand out textual.js with the terminal kept."""
    url = urlsplit(route.request.url)
    if url.hostname != "127.0.0.1":
        route.abort()
    elif url.path.endswith("/static/js/textual.js"):
        response = route.fetch()
        script = response.text()
        assert script.count(TERMINAL_OPEN) == 1, "textual-serve's script changed: update TERMINAL_OPEN"
        route.fulfill(response=response, body=script.replace(
            TERMINAL_OPEN, f"{TERMINAL_OPEN},window.optsimTerminal=this.terminal"))
    else:
        route.continue_()


def screen(page: Page) -> str:
    return page.evaluate(SCREEN_JS)


def wait_for_screen(page: Page, wanted, what: str, timeout: float = 15) -> str:
    """Poll the terminal's text until wanted(text) is true; fail showing the screen if not."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(page)
        if wanted(text):
            return text
        page.wait_for_timeout(100)
    pytest.fail(f"the page never showed {what}; its terminal showed:\n{text}")


def step_of(text: str) -> tuple[str, int, int] | None:
    found = STEP.search(text)
    return (found[1], int(found[2]), int(found[3])) if found else None


def snap(page: Page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_scenario_and_play(page: Page) -> None:
    """From the picker: enter opens the highlighted scenario, n steps once, space plays."""
    page.keyboard.press("Enter")
    text = wait_for_screen(page, step_of, "the simulator's step counter")
    state, first, last = step_of(text)
    assert last > 1 and first < last, text
    page.keyboard.press("n")  # one step, paused
    text = wait_for_screen(page, lambda t: (s := step_of(t)) and s[0] == "paused" and s[1] == first + 1,
                           f"step {first + 1} paused after n")
    snap(page, "2-stepped")
    page.keyboard.press("Space")
    text = wait_for_screen(page, lambda t: (s := step_of(t)) and s[1] >= first + 5,
                           "the step counter running after space")
    assert step_of(text)[0] in ("playing", "done"), text
    snap(page, "3-playing")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; missing, it is an error that says how to install it."""
    assert CHROMIUM.is_file(), (f"the browser tests need Chromium at {CHROMIUM}: install Debian's "
                                "package with `apt-get install chromium` (or set OPTSIM_CHROMIUM)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=[NO_LOCAL_NETWORK_CHECKS])
        try:
            yield chromium
        finally:
            chromium.close()


def test_the_app_runs_in_chromium(browser, served_url):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.route("**/*", local_only)
        page.goto(served_url, wait_until="domcontentloaded")
        wait_for_screen(page, lambda t: all(w in t for w in PICKER_WORDS), "the scenario picker", 30)
        assert page.locator("body.-first-byte .textual-terminal canvas").count() > 0
        snap(page, "1-picker")
        page.focus(".xterm-helper-textarea")  # where xterm.js takes key presses (a click does this)
        open_scenario_and_play(page)
        page.keyboard.press("q")
        page.wait_for_selector("body.-closed", timeout=15_000)  # "Session ended."
        snap(page, "4-ended")
    finally:
        page.close()


def test_a_page_from_another_origin_cannot_open_the_apps_websocket(browser, served_url):
    """The attack the Origin check stops: a page from elsewhere opens the WebSocket of the
    optsim on this machine; the server answers 403 and no app starts."""
    page = browser.new_page()
    said: list[str] = []
    page.on("console", lambda message: said.append(message.text))
    try:
        page.route(f"{FOREIGN}/**", lambda route: route.fulfill(body="<p>elsewhere</p>",
                                                                 content_type="text/html"))
        page.goto(f"{FOREIGN}/page.html")
        websocket = served_url.replace("http:", "ws:") + "ws"
        assert page.evaluate(TRY_WEBSOCKET, websocket) == "refused"
        assert any("403" in line for line in said), said  # the server's answer, not the browser's
    finally:
        page.close()
