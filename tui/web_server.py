"""textual-serve's web server with two doors shut: foreign pages and folder listings.

A browser lets any web page open a WebSocket to any address, 127.0.0.1 included, and sends
the page's Origin with it. textual-serve accepts every Origin, so any page the user visits
could start optsim and type into it. This server answers 403 to a WebSocket whose Origin is
not the served address, and to any request whose Host header is not that address (so a
page cannot reach it by pointing its own name at 127.0.0.1: DNS rebinding). Its static
folder (textual-serve's JavaScript, CSS and fonts) serves files only, never a listing.
The page points its WebSocket at the address the browser used, so a server bound to
0.0.0.0 works from other machines.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler
import aiohttp_jinja2
import jinja2
from textual_serve.server import Server, to_int

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})
DEFAULT_PORTS = {"http": 80, "https": 443}

HostKey = tuple[str, str, int]  # scheme, host name, port


def host_key(scheme: str, netloc: str) -> HostKey | None:
    """(scheme, host name, port) of `scheme://netloc`, lower-cased, the port filled in; None if malformed."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.username:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else DEFAULT_PORTS[scheme]


def origin_key(origin: str) -> HostKey | None:
    """(scheme, host name, port) of an Origin such as `http://127.0.0.1:8000`; None if not http(s)."""
    scheme, sep, netloc = origin.partition("://")
    return host_key(scheme.lower(), netloc) if sep else None


def allowed_hosts(host: str, port: int, scheme: str = "http") -> frozenset[HostKey] | None:
    """The addresses a browser may use to reach a server bound to host:port (plain HTTP).

    None for a wildcard bind (0.0.0.0, ::): the machine's names are not known, so any Host
    is accepted and the Origin must then match it (same origin)."""
    if host in ANY_ADDRESS:
        return None
    names = LOOPBACK_NAMES if host.lower() in LOOPBACK_NAMES else {host.lower()}
    return frozenset((scheme, name, port) for name in names)


class GuardedServer(Server):
    """textual-serve's Server that checks Host and Origin and lists no folders."""

    def __init__(self, command: str, host: str = "127.0.0.1", port: int = 8000,
                 title: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.allowed = allowed_hosts(host, port)

    def refusal(self, request: web.Request) -> str | None:
        """Why the request may not be served (None when it may)."""
        host = host_key(request.scheme, request.headers.get("Host", ""))
        if host is None or (self.allowed is not None and host not in self.allowed):
            return "this server is not reached under that name"
        origin = request.headers.get("Origin")
        if origin is None:
            return "a WebSocket needs an Origin" if request.path == "/ws" else None
        if origin_key(origin) not in (self.allowed or {host}):
            return "pages from another origin may not use this server"
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Answer 403 to a request from a foreign page or under a foreign name."""
        reason = self.refusal(request)
        if reason is not None:
            raise web.HTTPForbidden(text=f"optsim serve: {reason}\n")
        return await handler(request)

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        """textual-serve's page, its WebSocket and static addresses under the name the browser
        used (the guard has checked it): bound to 0.0.0.0, textual-serve would send ws://0.0.0.0."""
        base = f"{request.scheme}://{request.host}"
        websocket = ("wss" if request.scheme == "https" else "ws") + base[len(request.scheme):]
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{websocket}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }

    async def _make_app(self) -> web.Application:
        """textual-serve's routes behind the guard, the static folder without listings."""
        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app
