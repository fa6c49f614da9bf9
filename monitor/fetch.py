"""The only module that speaks httpx.

A ``Fetcher`` makes GET requests under these rules:

* a wall-clock deadline around the whole request (httpx's timeouts are per
  operation, so a server that drips a byte a second would never trip them);
* caps on the raw bytes read and on the bytes after decompression, checked as
  the body streams in (gzip and deflate are decoded here, chunk by chunk, with
  ``max_length``, so a compression bomb never inflates past the cap);
* redirects followed by hand, each hop checked by the network policy;
* the network policy (``policy.py``) applied where the socket is opened, to the
  address actually connected to, so a DNS answer that changes between a check
  and the connect gets nowhere;
* a global and a per-host limit on requests in flight, spread over several
  small clients (one large httpx pool costs more CPU per request);
* conditional GET (If-None-Match / If-Modified-Since).

Every failure is raised as a ``FetchError`` (or a child) with one line that names
the URL and what went wrong.
"""

from __future__ import annotations

import asyncio
import io
import logging
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .errors import BlockedError, ChallengeError, FetchError, TooLargeError
from .policy import NetworkPolicy

log = logging.getLogger(__name__)

CHALLENGE_STATUSES = {521, 522, 523, 525, 526}
_CHALLENGE_MARKERS = (b"__jsl_clearance", b"cf-browser-verification", b"cf_chl_",
                      b"challenge-platform", b"_waf_",
                      b"\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81")


@dataclass(frozen=True)
class FetchSettings:
    timeout: float = 20.0
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000
    max_raw_bytes: int | None = None  # default: same as max_bytes
    max_redirects: int = 5
    user_agent: str = "monitor/0.1"
    concurrency: int = 32
    per_host: int = 4
    clients: int = 4
    verify: ssl.SSLContext | bool = True


@dataclass(frozen=True)
class Response:
    url: str  # final URL after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    elapsed: float = 0.0
    redirects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks and connects: the policy sees the address the socket uses."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._policy = policy

    async def connect_tcp(self, host, port, timeout=None, local_address=None,
                          socket_options=None):
        address = await self._policy.resolve(host, port)
        return await self._inner.connect_tcp(address, port, timeout=timeout,
                                             local_address=local_address,
                                             socket_options=socket_options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise BlockedError(f"unix sockets are not fetched: {path}")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool built on the guarded backend."""

    def __init__(self, policy: NetworkPolicy, ctx: ssl.SSLContext, max_connections: int) -> None:
        # Given a context, httpx builds none of its own (loading the CA bundle costs
        # ~100 ms each time, so one context serves every client of a Fetcher).
        super().__init__(verify=ctx, retries=0)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ctx, max_connections=max_connections,
            max_keepalive_connections=max_connections, keepalive_expiry=5.0,
            http1=True, http2=False, retries=0, network_backend=_GuardedBackend(policy))


class Fetcher:
    """Fetches URLs under the limits above. Use as ``async with Fetcher(...) as f``."""

    def __init__(self, settings: FetchSettings, policy: NetworkPolicy) -> None:
        self.settings = settings
        self.policy = policy
        self._clients: list[httpx.AsyncClient] = []
        self._global = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._turn = 0

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        per_client = max(1, -(-s.concurrency // max(1, s.clients)))
        timeout = httpx.Timeout(s.timeout, connect=s.connect_timeout)
        ctx = s.verify if isinstance(s.verify, ssl.SSLContext) else \
            httpx.create_ssl_context(verify=s.verify)
        for _ in range(max(1, s.clients)):
            self._clients.append(httpx.AsyncClient(
                transport=_GuardedTransport(self.policy, ctx, per_client),
                timeout=timeout, follow_redirects=False, trust_env=False,
                headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"}))
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients), return_exceptions=True)
        self._clients.clear()

    def _client_for(self, host: str) -> httpx.AsyncClient:
        # Round robin: one host's requests spread over every client's pool too.
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None) -> Response:
        """GET ``url``; raises FetchError (or a child) on any failure.

        The deadline starts when the request leaves the queue (the global and per-host
        limits), not when it joins it: a request waiting its turn has not been sent.
        """
        try:
            return await self._get(url, etag, last_modified)
        except TimeoutError:
            raise FetchError(f"{redact(url)}: no complete answer within "
                             f"{self.settings.timeout:g}s") from None
        except FetchError as exc:
            shown = redact(url)
            if shown != url:  # credentials in the URL never reach a log or the store
                exc.args = (str(exc).replace(url, shown),)
            raise

    async def _get(self, url: str, etag: str | None, last_modified: str | None) -> Response:
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        hops: list[str] = []
        current = url
        origin = urlsplit(url).netloc.lower()
        loop = asyncio.get_running_loop()
        started: float | None = None
        while True:
            self.policy.check_url(current)
            host = (urlsplit(current).hostname or "").lower()
            sem = self._hosts.setdefault(host, asyncio.Semaphore(self.settings.per_host))
            # validators are for the server that issued them, not a host redirected to
            headers = conditional if urlsplit(current).netloc.lower() == origin else {}
            async with self._global, sem:
                if started is None:
                    started = loop.time()
                async with asyncio.timeout_at(started + self.settings.timeout):
                    status, resp_headers, body = await self._request(current, headers)
            if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
                if len(hops) >= self.settings.max_redirects:
                    raise FetchError(f"{url}: more than {self.settings.max_redirects} "
                                     f"redirects", status=status)
                nxt = urljoin(current, resp_headers["location"])
                if nxt in hops or nxt == current:
                    raise FetchError(f"{url}: redirect loop at {nxt}", status=status)
                hops.append(current)
                current = nxt
                continue
            break
        response = Response(url=current, status=status, headers=resp_headers, body=body,
                            elapsed=loop.time() - started, redirects=tuple(hops))
        self._raise_for_status(url, response)
        return response

    async def _request(self, url: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
        client = self._client_for((urlsplit(url).hostname or "").lower())
        try:
            async with client.stream("GET", url, headers=headers) as resp:
                resp_headers = {k.lower(): v for k, v in resp.headers.items()}
                if resp.status_code in (301, 302, 303, 304, 307, 308):
                    return resp.status_code, resp_headers, b""
                body = await self._read_capped(url, resp, resp_headers)
                return resp.status_code, resp_headers, body
        except FetchError as exc:
            if str(exc).startswith(url):
                raise
            # the policy's own errors (cannot resolve, private address) name only the host:
            # say which URL, as every other FetchError does (a redirect hop, say)
            raise type(exc)(f"{url}: {exc}", status=exc.status,
                            retry_after=exc.retry_after) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"{url}: timed out ({type(exc).__name__})") from exc
        except httpx.ConnectError as exc:
            raise FetchError(f"{url}: cannot connect: {_reason(exc)}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {_reason(exc)}") from exc
        except ssl.SSLError as exc:
            raise FetchError(f"{url}: TLS error: {exc.reason or exc}") from exc
        except OSError as exc:
            raise FetchError(f"{url}: network error: {exc.strerror or exc}") from exc

    async def _read_capped(self, url: str, resp: httpx.Response,
                           headers: Mapping[str, str]) -> bytes:
        cap = self.settings.max_bytes
        raw_cap = self.settings.max_raw_bytes or cap
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > raw_cap:
            raise TooLargeError(f"{url}: body of {int(declared):,} bytes is over the "
                                f"{raw_cap:,}-byte cap", status=resp.status_code)
        decoder = _Decoder(headers.get("content-encoding", ""), cap, url)
        raw = 0
        # BytesIO, not bytearray + bytes(): getvalue() hands over its buffer without a copy,
        # so a kept body costs its size in memory once, not twice (a 40 MB body raised the
        # peak RSS by 81 MB before, 41 MB now; tests/test_hostile.py measures it).
        out = io.BytesIO()
        async for chunk in resp.aiter_raw():
            raw += len(chunk)
            if raw > raw_cap:
                raise TooLargeError(f"{url}: body over the {raw_cap:,}-byte cap",
                                    status=resp.status_code)
            out.write(decoder.feed(chunk))
        out.write(decoder.flush())
        return out.getvalue()

    @staticmethod
    def _raise_for_status(url: str, r: Response) -> None:
        if r.status in (200, 203, 304) or (200 <= r.status < 300 and r.status != 204):
            if r.status == 200 and _looks_like_challenge(r.body):
                raise ChallengeError(f"{url}: anti-bot challenge page (HTTP 200)", status=200)
            return
        if r.status in CHALLENGE_STATUSES or (r.status in (403, 412) and
                                               _looks_like_challenge(r.body)):
            raise ChallengeError(f"{url}: anti-bot challenge (HTTP {r.status})", status=r.status)
        retry = retry_after_seconds(r.headers.get("retry-after"))
        raise FetchError(f"{url}: HTTP {r.status}", status=r.status, retry_after=retry)


def redact(url: str) -> str:
    """``url`` without a user name or password in it."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


def _looks_like_challenge(body: bytes) -> bool:
    head = body[:4096]
    return len(body) < 20_000 and any(m in head for m in _CHALLENGE_MARKERS)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


class _Decoder:
    """Content-Encoding decoding with a cap on the output, checked per chunk."""

    def __init__(self, encoding: str, cap: int, url: str) -> None:
        enc = encoding.strip().lower()
        self.url, self.cap, self.size = url, cap, 0
        self.kind = enc if enc in ("gzip", "x-gzip", "deflate") else ""
        self._z = zlib.decompressobj(47) if self.kind in ("gzip", "x-gzip") else (
            zlib.decompressobj(15) if self.kind == "deflate" else None)
        self._first = True

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLargeError(f"{self.url}: body over the {self.cap:,}-byte cap "
                                f"after decompression")
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._z is None:
            return self._count(chunk)
        out = bytearray()
        data = chunk
        while data:
            try:
                part = self._z.decompress(data, self.cap - self.size + 1)
            except zlib.error as exc:
                if self.kind == "deflate" and self._first:  # raw deflate, no zlib header
                    self._z = zlib.decompressobj(-15)
                    self._first = False
                    continue
                raise FetchError(f"{self.url}: bad {self.kind} body: {exc}") from exc
            self._first = False
            out += self._count(part)
            data = self._z.unconsumed_tail
            if self._z.eof:
                break
        return bytes(out)

    def flush(self) -> bytes:
        if self._z is None:
            return b""
        return self._count(self._z.flush())
