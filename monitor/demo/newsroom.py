"""A tiny local news site for tests and demos (standard library only).

``Newsroom`` serves the files under ``site/`` (or another directory) on
127.0.0.1 from a daemon thread::

    with Newsroom() as news:
        httpx.get(news.url("/wire/rss.xml"))

What it does, so that tests can rely on it:

* ``/dir/`` serves ``dir/index.html``; ``/dir`` redirects to ``/dir/``.
* In text files (.xml .html .htm .json .txt) the placeholder ``{base}`` is
  replaced by ``base_url`` on the raw bytes, so GBK files stay intact.
* Content-Type comes from the extension; ``.xml`` is ``application/atom+xml``
  when the body holds ``<feed`` and ``application/rss+xml`` otherwise.  Text
  types carry a charset: the nearest ``.charset`` file in the resource's
  directory or an ancestor (``site/gbk/.charset`` says ``gbk``), else utf-8.
* A strong ETag (hash of the body as served) and a Last-Modified fixed per
  resource; If-None-Match (which wins) and If-Modified-Since answer 304 with no
  body.  HEAD is answered with the GET headers.  Unknown paths are 404; dot
  files are never served.
* ``set_file``/``remove_file`` change resources in memory; ``add_route`` hands
  a path to your own handler (fault injection); ``latency`` delays answers.
* Every request is recorded in ``requests`` as a ``RequestLog``.

``python -m monitor.demo.newsroom --port 8000`` serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import mimetypes
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["Newsroom", "RequestLog", "DEFAULT_SITE", "main"]

DEFAULT_SITE = Path(__file__).resolve().parent / "site"
PLACEHOLDER = b"{base}"
_DECLARED = re.compile(rb"""(?:encoding|charset)\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
TEXT_EXTENSIONS = frozenset({".xml", ".html", ".htm", ".json", ".txt"})
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".txt": "text/plain",
    ".css": "text/css",
    ".js": "text/javascript",
    ".toml": "text/plain",
}

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 drops connections when a poller opens dozens at
    # once, and a dropped SYN is retried only after a second: benchmarks would time that.
    request_queue_size = 256


@dataclass(frozen=True)
class RequestLog:
    """One request the newsroom answered."""

    method: str
    path: str  # as requested, query string included
    headers: dict = field(default_factory=dict)
    status: int = 0


@dataclass
class _Resource:
    """A resource set in memory by ``set_file``."""

    body: bytes
    content_type: str | None
    last_modified: int  # epoch seconds


def _is_textual(content_type: str | None, suffix: str) -> bool:
    if suffix in TEXT_EXTENSIONS:
        return True
    if not content_type:
        return False
    ct = content_type.split(";", 1)[0].strip().lower()
    return ct.startswith("text/") or ct.endswith("xml") or ct.endswith("json")


class Newsroom:
    """Serve a static news site on 127.0.0.1 from a background thread."""

    def __init__(self, site_dir: Path | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.site_dir = Path(site_dir if site_dir is not None else DEFAULT_SITE).resolve()
        self.host = host
        self.port = port
        self.base_url = ""
        self.latency = 0.0
        self.requests: list[RequestLog] = []
        self._lock = threading.Lock()
        self._overrides: dict[str, _Resource] = {}
        self._removed: set[str] = set()
        self._routes: dict[str, Handler] = {}
        self._lm_floor: dict[str, int] = {}  # last Last-Modified handed out per path
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> Newsroom:
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        address = server.server_address
        host, port = str(address[0]), int(address[1])
        self.port = port
        shown = host if ":" not in host else f"[{host}]"
        self.base_url = f"http://{shown}:{port}"
        self._thread = threading.Thread(target=server.serve_forever,
                                        name=f"newsroom:{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Newsroom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for tests -------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def set_file(self, path: str, body: bytes | str, content_type: str | None = None) -> None:
        """Add or replace the resource at ``path`` (kept in memory)."""
        path = _norm(path)
        if isinstance(body, str):
            body = body.encode(self._charset_for(path))
        with self._lock:
            previous = self._last_modified_locked(path)
            now = int(time.time())
            stamp = max(now, previous + 1) if previous else now
            self._overrides[path] = _Resource(body, content_type, stamp)
            self._lm_floor[path] = stamp
            self._removed.discard(path)

    def remove_file(self, path: str) -> None:
        """Make ``path`` answer 404 (whether it was set in memory or is on disk)."""
        path = _norm(path)
        with self._lock:
            self._overrides.pop(path, None)
            self._removed.add(path)

    def add_route(self, path: str, handler: Handler) -> None:
        """Hand requests for ``path`` (any method) to ``handler(request_handler)``.

        A route with a query string matches only that query; one without matches
        the path whatever the query.  The handler writes the whole response.
        """
        with self._lock:
            self._routes[path] = handler

    def remove_route(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    # -- resolution --------------------------------------------------------------

    def _route_for(self, raw_path: str) -> Handler | None:
        with self._lock:
            if raw_path in self._routes:
                return self._routes[raw_path]
            return self._routes.get(urlsplit(raw_path).path)

    def _disk_file(self, path: str) -> Path | None:
        rel = path.lstrip("/")
        if any(part.startswith(".") for part in rel.split("/") if part):
            return None
        candidate = (self.site_dir / rel).resolve()
        try:
            candidate.relative_to(self.site_dir)
        except ValueError:
            return None
        if candidate.is_dir():
            return None
        return candidate if candidate.is_file() else None

    def _charset_for(self, path: str, body: bytes | None = None) -> str:
        """The nearest ``.charset`` rule; else what the body declares; else utf-8."""
        directory = (self.site_dir / path.lstrip("/")).parent
        while True:
            marker = directory / ".charset"
            if marker.is_file():
                name = marker.read_text("ascii").strip()
                if name:
                    return name
            if directory == self.site_dir or self.site_dir not in directory.parents:
                break
            directory = directory.parent
        # Fallback for copies that lost the dot file (packaging tools skip them).
        if body:
            found = _DECLARED.search(body[:2048])
            if found:
                return found.group(1).decode("ascii").lower()
        return "utf-8"

    def _last_modified_locked(self, path: str) -> int:
        if path in self._overrides:
            return self._overrides[path].last_modified
        floor = self._lm_floor.get(path, 0)
        disk = self._disk_file(path)
        if disk is not None:
            return max(int(disk.stat().st_mtime), floor)
        return floor

    def _lookup(self, path: str) -> tuple[bytes, str, int] | None:
        """Return (body as served, content type, last-modified) or None."""
        with self._lock:
            if path in self._removed:
                return None
            override = self._overrides.get(path)
            floor = self._lm_floor.get(path, 0)
        suffix = Path(path).suffix.lower()
        if override is not None:
            body, declared, stamp = override.body, override.content_type, override.last_modified
        else:
            disk = self._disk_file(path)
            if disk is None:
                return None
            body = disk.read_bytes()
            declared = None
            stamp = max(int(disk.stat().st_mtime), floor)
        content_type = declared or self._guess_type(path, suffix, body)
        if _is_textual(content_type, suffix):
            body = body.replace(PLACEHOLDER, self.base_url.encode("ascii"))
        return body, content_type, stamp

    def _guess_type(self, path: str, suffix: str, body: bytes) -> str:
        if suffix in (".xml", ".rss", ".atom"):
            head = body[:1024].lower()
            base = "application/atom+xml" if b"<feed" in head else "application/rss+xml"
        elif suffix in _TYPES:
            base = _TYPES[suffix]
        else:
            base = mimetypes.guess_type(path)[0] or "application/octet-stream"
        if _is_textual(base, suffix):
            return f"{base}; charset={self._charset_for(path, body)}"
        return base

    def _record(self, entry: RequestLog) -> None:
        with self._lock:
            self.requests.append(entry)


def _norm(path: str) -> str:
    path = urlsplit(path).path if "://" in path else path.split("?", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    if path.endswith("/"):
        path += "index.html"
    return path


def _make_handler(room: Newsroom) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "Newsroom/1.0"
        sys_version = ""
        _status = 0

        def send_response(self, code: int, message: str | None = None) -> None:
            self._status = code
            super().send_response(code, message)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def _dispatch(self) -> None:
            try:
                if room.latency > 0:
                    time.sleep(room.latency)
                route = room._route_for(self.path)
                if route is not None:
                    route(self)
                elif self.command in ("GET", "HEAD"):
                    self._serve_static()
                else:
                    self._plain(405, b"method not allowed\n", {"Allow": "GET, HEAD"})
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                room._record(RequestLog(self.command, self.path, dict(self.headers.items()),
                                        self._status))

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

        def _plain(self, code: int, body: bytes, extra: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _serve_static(self) -> None:
            raw = unquote(urlsplit(self.path).path) or "/"
            path = _norm(raw)
            found = room._lookup(path)
            if found is None and not raw.endswith("/") and room._lookup(_norm(raw + "/")):
                query = urlsplit(self.path).query
                location = raw + "/" + (f"?{query}" if query else "")
                self._plain(301, b"moved\n", {"Location": location})
                return
            if found is None:
                self._plain(404, b"not found\n")
                return
            body, content_type, stamp = found
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            last_modified = formatdate(stamp, usegmt=True)
            if self._not_modified(etag, stamp):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", last_modified)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _not_modified(self, etag: str, stamp: int) -> bool:
            inm = self.headers.get("If-None-Match")
            if inm is not None:
                tags = [t.strip() for t in inm.split(",")]
                return "*" in tags or etag in tags or f"W/{etag}" in tags
            ims = self.headers.get("If-Modified-Since")
            if ims:
                try:
                    since = parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError, IndexError, OverflowError):
                    return False
                return stamp <= since
            return False

    return _Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.demo.newsroom",
                                     description="Serve the bundled sample newsroom.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site", type=Path, default=None,
                        help="directory to serve (default: the bundled site)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    room = Newsroom(args.site, host=args.host, port=args.port)
    room.latency = args.latency
    room.start()
    print(f"Newsroom serving {room.site_dir} at {room.base_url}", flush=True)
    print(f"Sources: {room.url('/wire/rss.xml')} and the others in sources.toml", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        room.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
