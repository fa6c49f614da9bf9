"""Shared fixtures: the loopback newsroom, a config pointing at it, an SMTP server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.demo.newsroom import Newsroom
from monitor.demo.runner import demo_config
from monitor.fetch import Fetcher, FetchSettings
from monitor.policy import NetworkPolicy


@pytest.fixture
def newsroom():
    with Newsroom() as news:
        yield news


@pytest.fixture
def make_config(newsroom, tmp_path):
    """A config for the test newsroom; keyword sections override its tables."""
    def make(**sections):
        return demo_config(newsroom.base_url, tmp_path / "var", **sections)
    return make


def fetch(url: str, policy: NetworkPolicy | None = None, **settings):
    """One GET through the real Fetcher (loopback allowed only for the URL's host:port)."""
    from urllib.parse import urlsplit

    if policy is None:
        policy = NetworkPolicy(allow=(urlsplit(url).netloc,))

    async def go():
        async with Fetcher(FetchSettings(**settings), policy) as f:
            return await f.get(url)
    return asyncio.run(go())


@pytest.fixture
def smtp_server():
    """A real aiosmtpd server on 127.0.0.1 that records what it accepts."""
    from aiosmtpd.controller import Controller

    class Recorder:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    handler = Recorder()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def rules():
    """The built-in classifier rules, loaded once for the whole run."""
    from monitor.classify import load_rules

    return load_rules()


def ensure_dead(proc) -> None:
    """Kill a test's subprocess if it is still running (for ``finally`` blocks)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def answer(h, status: int = 200, body: bytes = b"", **headers: str) -> None:
    """Write a whole HTTP response from a newsroom route handler."""
    h.send_response(status)
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
