"""The fetcher against a real HTTP server on 127.0.0.1: caps, deadlines, redirects, policy."""

from __future__ import annotations

import asyncio
import gzip
import time
import zlib

import pytest

from monitor.errors import BlockedError, ChallengeError, FetchError, TooLargeError
from monitor.fetch import Fetcher, FetchSettings
from monitor.policy import NetworkPolicy

from .conftest import fetch


def _route(newsroom, path, status=200, body=b"", headers=None, chunked=False):
    def handler(h):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                h.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
            h.wfile.write(b"0\r\n\r\n")
        else:
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
    newsroom.add_route(path, handler)


def test_conditional_get(newsroom):
    first = fetch(newsroom.url("/wire/rss.xml"))
    assert first.status == 200 and first.etag and b"<rss" in first.body

    async def cond():
        async with Fetcher(FetchSettings(), NetworkPolicy(allow=(newsroom.base_url[7:],))) as f:
            return await f.get(newsroom.url("/wire/rss.xml"), etag=first.etag)
    again = asyncio.run(cond())
    assert again.status == 304 and again.not_modified and again.body == b""
    deadline = time.monotonic() + 5  # the server logs a request after answering it
    while len([r for r in newsroom.requests if r.path == "/wire/rss.xml"]) < 2 and \
            time.monotonic() < deadline:
        time.sleep(0.01)
    sent = [{k.lower(): v for k, v in r.headers.items()} for r in newsroom.requests
            if r.path == "/wire/rss.xml"]
    assert "if-none-match" not in sent[0] and sent[1]["if-none-match"] == first.etag


def test_body_cap_with_content_length(newsroom):
    _route(newsroom, "/big", body=b"x" * 3_000_000)
    with pytest.raises(TooLargeError):
        fetch(newsroom.url("/big"), max_bytes=1_000_000)


def test_body_cap_chunked_without_length(newsroom):
    _route(newsroom, "/big-chunked", body=b"y" * 3_000_000, chunked=True)
    with pytest.raises(TooLargeError):
        fetch(newsroom.url("/big-chunked"), max_bytes=1_000_000)


def test_gzip_bomb_is_cut_while_inflating(newsroom):
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # ~200 KB on the wire
    assert len(bomb) < 1_000_000
    _route(newsroom, "/bomb", body=bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError) as err:
        fetch(newsroom.url("/bomb"), max_bytes=2_000_000)
    assert "after decompression" in str(err.value)


def test_gzip_and_deflate_bodies_decode(newsroom):
    _route(newsroom, "/gz", body=gzip.compress(b"hello gzip"), headers={"Content-Encoding": "gzip"})
    _route(newsroom, "/df", body=zlib.compress(b"hello deflate"),
           headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-15)
    _route(newsroom, "/rawdf", body=raw.compress(b"hello raw") + raw.flush(),
           headers={"Content-Encoding": "deflate"})
    assert fetch(newsroom.url("/gz")).body == b"hello gzip"
    assert fetch(newsroom.url("/df")).body == b"hello deflate"
    assert fetch(newsroom.url("/rawdf")).body == b"hello raw"


def test_wall_clock_deadline_beats_a_drip(newsroom):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(30):
            try:
                h.wfile.write(b"x")
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)
    newsroom.add_route("/drip", drip)
    started = time.monotonic()
    with pytest.raises(FetchError) as err:
        fetch(newsroom.url("/drip"), timeout=1.0)
    assert time.monotonic() - started < 3
    assert "within 1s" in str(err.value)


def test_redirect_loop_and_limit(newsroom):
    _route(newsroom, "/loop-a", status=302, headers={"Location": "/loop-b"})
    _route(newsroom, "/loop-b", status=302, headers={"Location": "/loop-a"})
    with pytest.raises(FetchError, match="redirect loop"):
        fetch(newsroom.url("/loop-a"))
    for i in range(8):
        _route(newsroom, f"/hop{i}", status=301, headers={"Location": f"/hop{i + 1}"})
    _route(newsroom, "/hop8", body=b"end")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetch(newsroom.url("/hop0"), max_redirects=3)
    assert fetch(newsroom.url("/hop0"), max_redirects=10).body == b"end"


def test_retry_after_and_challenge(newsroom):
    _route(newsroom, "/busy", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as err:
        fetch(newsroom.url("/busy"))
    assert err.value.status == 429 and err.value.retry_after == 120
    _route(newsroom, "/jsl", status=521, body=b"<script>document.cookie='__jsl_clearance=1'</script>")
    with pytest.raises(ChallengeError):
        fetch(newsroom.url("/jsl"))


def test_redirect_to_a_private_address_is_refused(newsroom):
    _route(newsroom, "/to-meta", status=302,
           headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(BlockedError):
        fetch(newsroom.url("/to-meta"))


def test_another_loopback_service_is_never_requested(newsroom):
    from monitor.demo.newsroom import Newsroom

    with Newsroom() as other:
        policy = NetworkPolicy(allow=(newsroom.base_url.split("//")[1],))
        with pytest.raises(BlockedError):
            fetch(other.url("/wire/rss.xml"), policy=policy)
        _route(newsroom, "/sneaky", status=302, headers={"Location": other.url("/wire/rss.xml")})
        with pytest.raises(BlockedError):
            fetch(newsroom.url("/sneaky"), policy=policy)
        assert other.requests == []


def test_name_resolving_to_loopback_is_refused_at_connect(newsroom):
    port = newsroom.base_url.rsplit(":", 1)[1]
    with pytest.raises(BlockedError):  # 'localhost' resolves to 127.0.0.1 / ::1
        fetch(f"http://localhost:{port}/wire/rss.xml", policy=NetworkPolicy())
    assert not [r for r in newsroom.requests if r.path == "/wire/rss.xml"]


def test_connection_refused_is_a_fetch_error():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(FetchError, match="cannot connect"):
        fetch(f"http://127.0.0.1:{port}/")


def test_waiting_in_the_queue_does_not_count_against_the_deadline(newsroom):
    def slow(h):
        time.sleep(0.4)
        h.send_response(200)
        h.send_header("Content-Length", "2")
        h.end_headers()
        h.wfile.write(b"ok")
    newsroom.add_route("/slow", slow)

    async def six():
        settings = FetchSettings(per_host=1, timeout=1.0)
        async with Fetcher(settings, NetworkPolicy(allow=(newsroom.base_url[7:],))) as f:
            return await asyncio.gather(*(f.get(newsroom.url("/slow")) for _ in range(6)))
    # one at a time, 0.4 s each: the last waits 2 s in the queue but is answered in 0.4 s
    assert [r.body for r in asyncio.run(six())] == [b"ok"] * 6


def test_credentials_in_a_url_never_reach_the_error():
    with pytest.raises(FetchError) as err:
        fetch("http://reader:s3cret-token@127.0.0.1:9/feed",
              policy=NetworkPolicy(allow=("127.0.0.1:9",)))
    assert "s3cret-token" not in str(err.value) and "***@127.0.0.1:9" in str(err.value)


def test_validators_are_not_sent_to_another_host(newsroom):
    from monitor.demo.newsroom import Newsroom

    with Newsroom() as other:
        other.set_file("/feed.xml", "<rss version='2.0'><channel></channel></rss>",
                       "application/rss+xml")
        _route(newsroom, "/moved", status=301, headers={"Location": other.url("/feed.xml")})
        policy = NetworkPolicy(allow=(newsroom.base_url[7:], other.base_url[7:]))

        async def go():
            async with Fetcher(FetchSettings(), policy) as f:
                return await f.get(newsroom.url("/moved"), etag='"abc"', last_modified="x")
        assert asyncio.run(go()).status == 200
        deadline = time.monotonic() + 5
        while not other.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        sent = {k.lower() for k in other.requests[0].headers}
        assert "if-none-match" not in sent and "if-modified-since" not in sent
