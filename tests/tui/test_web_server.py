"""`optsim serve`'s server: only its own pages may drive the app, and it lists no folders.

Each test runs the real aiohttp app on 127.0.0.1 and a free port and sends real HTTP
requests to it (aiohttp's test client), as a browser would."""

from __future__ import annotations

import asyncio
import gc
import shlex
import socket
import sys

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from optsim.tui.web_server import GuardedServer, allowed_hosts, origin_key
from tui_helpers import run_async

# The app each accepted WebSocket starts: in textual-serve's protocol (a prelude line, then
# type + length + payload packets) it says hello and asks to close, so no TUI is needed here.
HELLO_APP = """
import json, sys
out = sys.stdout.buffer
def packet(kind, payload):
    out.write(kind + len(payload).to_bytes(4, "big") + payload)
out.write(b"__GANGLION__\\n")
packet(b"D", b"hello from the app")
packet(b"M", json.dumps({"type": "exit"}).encode())
out.flush()
"""
HELLO = shlex.join([sys.executable, "-c", HELLO_APP])
UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def client_for(bound_host: str = "127.0.0.1") -> TestClient:
    """A started test client of a GuardedServer that believes it is bound to bound_host."""
    port = free_port()
    server = GuardedServer(HELLO, host=bound_host, port=port, title="optsim")
    client = TestClient(TestServer(await server._make_app(), host="127.0.0.1", port=port))
    await client.start_server()
    return client


async def shut(client: TestClient) -> None:
    """Stop the server, then let the app processes' pipes close while the loop still runs."""
    await client.close()
    gc.collect()
    await asyncio.sleep(0.05)


async def binary_until_closed(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    received = b""
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            received += message.data
    return received


def test_origin_and_host_keys():
    assert origin_key("http://127.0.0.1:8000") == ("http", "127.0.0.1", 8000)
    assert origin_key("HTTP://LocalHost") == ("http", "localhost", 80)
    assert origin_key("https://[::1]") == ("https", "::1", 443)
    for bad in ("null", "", "file://x", "http://", "http://a:99999", "127.0.0.1:8000"):
        assert origin_key(bad) is None
    assert allowed_hosts("127.0.0.1", 8000) == {("http", "127.0.0.1", 8000), ("http", "localhost", 8000),
                                                 ("http", "::1", 8000)}
    assert allowed_hosts("Box.LAN", 81) == {("http", "box.lan", 81)}
    assert allowed_hosts("0.0.0.0", 8000) is None


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:1", "null",
                                    "https://127.0.0.1:{port}", None])
@run_async
async def test_a_foreign_or_missing_origin_cannot_open_the_websocket(origin):
    client = await client_for()
    try:
        headers = dict(UPGRADE)
        if origin is not None:
            headers["Origin"] = origin.format(port=client.port)
        response = await client.get("/ws", headers=headers)
        assert response.status == 403
        assert "optsim serve:" in await response.text()
    finally:
        await shut(client)


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
@run_async
async def test_the_served_origin_opens_the_websocket_and_runs_the_app(name):
    client = await client_for()
    try:
        origin = f"http://{name}:{client.port}"
        ws = await client.ws_connect("/ws", headers={"Origin": origin, "Host": f"{name}:{client.port}"})
        received = await asyncio.wait_for(binary_until_closed(ws), timeout=20)
        assert b"hello from the app" in received
    finally:
        await shut(client)


@run_async
async def test_a_foreign_host_name_gets_403_even_for_the_page():
    """DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends Host: evil.example."""
    client = await client_for()
    try:
        page = await client.get("/", headers={"Host": f"evil.example:{client.port}"})
        assert page.status == 403
        own = await client.get("/")
        assert own.status == 200 and f"ws://127.0.0.1:{client.port}/ws" in await own.text()
    finally:
        await shut(client)


@run_async
async def test_a_wildcard_bind_accepts_only_same_origin_websockets():
    client = await client_for("0.0.0.0")
    try:
        host = f"box.lan:{client.port}"
        foreign = await client.get("/ws", headers={**UPGRADE, "Host": host, "Origin": "http://evil.example"})
        assert foreign.status == 403
        page = await client.get("/", headers={"Host": host})
        assert page.status == 200 and f'"ws://{host}/ws"' in await page.text()
        ws = await client.ws_connect("/ws", headers={"Host": host, "Origin": f"http://{host}"})
        assert b"hello from the app" in await asyncio.wait_for(binary_until_closed(ws), timeout=20)
    finally:
        await shut(client)


@pytest.mark.parametrize("folder", ["/static", "/static/", "/static/js/", "/static/fonts"])
@run_async
async def test_static_folders_are_not_listed(folder):
    client = await client_for()
    try:
        listing = await client.get(folder)
        assert listing.status in (403, 404)
        assert "textual.js" not in await listing.text() and "Index of" not in await listing.text()
        script = await client.get("/static/js/textual.js")
        assert script.status == 200 and len(await script.read()) > 10_000
    finally:
        await shut(client)
