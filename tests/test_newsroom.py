"""The bundled sample newsroom: server behaviour and site content."""

from __future__ import annotations

import json
import time
import tomllib
from collections import Counter
from datetime import date
from urllib.parse import urljoin

import feedparser
import httpx
import pytest
from bs4 import BeautifulSoup

from monitor.demo.newsroom import DEFAULT_SITE, Newsroom, RequestLog

SOURCES = DEFAULT_SITE.parent / "sources.toml"
LABELS = json.loads((DEFAULT_SITE / "labels.json").read_text("utf-8"))

FEEDS = {  # path: (feedparser version, item count)
    "/wire/rss.xml": ("rss20", 8),
    "/techdaily/atom.xml": ("atom10", 8),
    "/xinwen/rss.xml": ("rss20", 8),
    "/gbk/rss.xml": ("rss20", 5),
    "/portal/feed.xml": ("rss20", 4),
}
BLOG_POSTS = 5
CANONICAL_COMPANIES = {"Alibaba", "Ant Group", "Tencent", "PDD", "Huawei", "JD.com",
                       "Baidu", "ByteDance"}


@pytest.fixture(scope="module")
def room():
    with Newsroom() as news:
        yield news


@pytest.fixture()
def fresh():
    """A newsroom of its own, for tests that change resources."""
    with Newsroom() as news:
        yield news


@pytest.fixture(scope="module")
def client(room):
    with httpx.Client(base_url=room.base_url, timeout=10) as c:
        yield c


def parse(resp: httpx.Response):
    return feedparser.parse(resp.content,
                            response_headers={"content-type": resp.headers["content-type"]})


def feed_links(client) -> dict[str, list[str]]:
    links = {}
    for path in FEEDS:
        parsed = parse(client.get(path))
        links[path] = [entry.link for entry in parsed.entries]
    return links


def blog_links(client, room) -> list[str]:
    soup = BeautifulSoup(client.get("/blog/").text, "lxml")
    return [urljoin(room.url("/blog/"), a["href"]) for a in soup.select("ul.posts a")]


def article_paths(room, urls) -> list[str]:
    assert all(u.startswith(room.base_url + "/") for u in urls), urls
    return [u[len(room.base_url):] for u in urls]


# -- lifecycle -----------------------------------------------------------------------

def test_start_gives_a_base_url_and_stop_closes_the_port():
    news = Newsroom(port=0)
    assert news.start() is news
    assert news.base_url.startswith("http://127.0.0.1:")
    assert news.url("/wire/rss.xml") == news.base_url + "/wire/rss.xml"
    assert news.url("wire/rss.xml") == news.base_url + "/wire/rss.xml"
    assert httpx.get(news.url("/wire/rss.xml")).status_code == 200
    news.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(news.url("/wire/rss.xml"), timeout=2)
    news.stop()  # idempotent


# -- feeds ---------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "version", "count"),
                         [(p, v, n) for p, (v, n) in FEEDS.items()])
def test_feeds_parse_with_the_expected_item_counts(client, path, version, count):
    resp = client.get(path)
    assert resp.status_code == 200
    kind = "application/atom+xml" if version == "atom10" else "application/rss+xml"
    assert resp.headers["content-type"].startswith(kind)
    parsed = parse(resp)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    assert len(parsed.entries) == count
    for entry in parsed.entries:
        assert entry.title and entry.link and entry.id
        assert entry.get("summary")
        assert entry.get("published_parsed") or entry.get("updated_parsed")


def test_gbk_feed_is_gbk_on_the_wire_and_decodes_to_chinese(client):
    resp = client.get("/gbk/rss.xml")
    assert resp.headers["content-type"] == "application/rss+xml; charset=gbk"
    assert resp.content.startswith(b'<?xml version="1.0" encoding="gbk"?>')
    assert "河北".encode("gbk") in resp.content
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    parsed = parse(resp)
    assert parsed.encoding.lower() == "gbk"
    titles = [e.title for e in parsed.entries]
    assert any("河北省政府与阿里巴巴集团签署数字经济战略合作协议" in t for t in titles)
    assert any("苹果" in t for t in titles)
    assert all("\ufffd" not in t for t in titles)


def test_gbk_article_pages_are_gbk(client):
    resp = client.get("/gbk/news/201910/12/content_118301.html")
    assert resp.headers["content-type"] == "text/html; charset=gbk"
    text = resp.content.decode("gbk")
    assert "阿里巴巴" in text and 'charset="gbk"' in text.replace("charset=gbk", 'charset="gbk"')
    assert resp.text == text  # httpx honours the header


def test_utf8_resources_say_utf8(client):
    rss = client.get("/xinwen/rss.xml").headers["content-type"]
    assert rss == "application/rss+xml; charset=utf-8"
    assert client.get("/blog/").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/labels.json").headers["content-type"] == "application/json; charset=utf-8"


def test_base_placeholder_is_replaced(client, room):
    for path in [*FEEDS, "/blog/", "/portal/", "/wire/2019/10/hebei-alibaba.html",
                 "/gbk/news/201910/12/content_118301.html"]:
        body = client.get(path).content
        assert b"{base}" not in body, path
        assert room.base_url.encode() in body, path
    parsed = parse(client.get("/wire/rss.xml"))
    assert all(e.link.startswith(room.base_url + "/wire/") for e in parsed.entries)


# -- links and labels ------------------------------------------------------------------

def test_every_link_in_feeds_and_indexes_answers_200(client, room):
    urls = [u for links in feed_links(client).values() for u in links]
    urls += blog_links(client, room)
    for index in ("/blog/", "/portal/"):
        soup = BeautifulSoup(client.get(index).text, "lxml")
        urls += [urljoin(room.url(index), a["href"]) for a in soup.find_all("a", href=True)]
        urls += [urljoin(room.url(index), ln["href"]) for ln in soup.find_all("link", href=True)]
    assert len(urls) > 40
    for url in sorted(set(urls)):
        assert client.get(url).status_code == 200, url


def test_blog_index_selector_finds_the_posts(client, room):
    links = blog_links(client, room)
    assert len(links) == BLOG_POSTS
    assert room.url("/blog/2019/10/four-deals-in-one-week.html") in links
    assert client.get("/blog/").headers["content-type"].startswith("text/html")


def test_portal_advertises_its_feed(client, room):
    soup = BeautifulSoup(client.get("/portal/").text, "lxml")
    alternates = soup.find_all("link", rel="alternate", type="application/rss+xml")
    assert len(alternates) == 1
    feed_url = urljoin(room.url("/portal/"), alternates[0]["href"])
    assert feed_url == room.url("/portal/feed.xml")
    assert len(parse(client.get(feed_url)).entries) == 4


def test_labels_cover_every_linked_article(client, room):
    linked = set()
    for links in feed_links(client).values():
        linked.update(article_paths(room, links))
    linked.update(article_paths(room, blog_links(client, room)))
    assert linked == set(LABELS)
    assert len(LABELS) >= 34


def test_labels_are_well_formed():
    reports = Counter()
    for path, agreements in LABELS.items():
        assert (DEFAULT_SITE / path.lstrip("/")).is_file(), path
        for agreement in agreements:
            assert set(agreement) == {"province", "level", "companies", "signed_on"}
            assert agreement["level"] in {"province", "city"}
            assert set(agreement["companies"]) <= CANONICAL_COMPANIES
            assert agreement["companies"] == sorted(agreement["companies"])
            date.fromisoformat(agreement["signed_on"])
            reports[(agreement["province"], tuple(agreement["companies"]),
                     agreement["signed_on"])] += 1
    assert reports == {
        ("Hebei", ("Alibaba",), "2019-10-11"): 7,
        ("Hebei", ("Tencent",), "2019-10-11"): 7,
        ("Chongqing", ("Alibaba", "Ant Group"), "2019-10-10"): 4,
        ("Yunnan", ("PDD",), "2019-10-12"): 3,
    }
    negatives = [p for p, a in LABELS.items() if not a]
    assert len(negatives) >= 20


def test_article_pages_carry_a_publication_date(client):
    for path in LABELS:
        resp = client.get(path)
        assert resp.status_code == 200, path
        soup = BeautifulSoup(resp.text, "lxml")
        stamp = soup.find("time", datetime=True) or soup.find(
            "meta", attrs={"property": "article:published_time"})
        assert stamp is not None, path
        assert soup.find(["article", "div"]) is not None


def test_sources_toml_points_at_the_newsroom(client):
    sources = tomllib.loads(SOURCES.read_text("utf-8"))["feeds"]
    kinds = {s["path"]: s["kind"] for s in sources}
    assert kinds == {"/wire/rss.xml": "feed", "/techdaily/atom.xml": "feed",
                     "/xinwen/rss.xml": "feed", "/gbk/rss.xml": "feed",
                     "/blog/": "page", "/portal/": "page"}
    for source in sources:
        assert client.get(source["path"]).status_code == 200
        assert source["lang"] in {"en", "zh"}
        if source["path"] == "/blog/":
            assert source["selector"] == "ul.posts a"
        if source["path"] == "/portal/":
            assert "selector" not in source


# -- HTTP behaviour --------------------------------------------------------------------

def test_conditional_get_with_etag_answers_304(client):
    first = client.get("/wire/rss.xml")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get("/wire/rss.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/wire/rss.xml", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200 and other.content == first.content


def test_conditional_get_with_last_modified_answers_304(client):
    first = client.get("/techdaily/atom.xml")
    stamp = first.headers["last-modified"]
    again = client.get("/techdaily/atom.xml", headers={"If-Modified-Since": stamp})
    assert again.status_code == 304 and again.content == b""
    old = client.get("/techdaily/atom.xml",
                     headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old.status_code == 200
    # If-None-Match wins over If-Modified-Since.
    both = client.get("/techdaily/atom.xml",
                      headers={"If-None-Match": '"nope"', "If-Modified-Since": stamp})
    assert both.status_code == 200


def test_head_has_the_get_headers_and_no_body(client):
    get = client.get("/xinwen/rss.xml")
    head = client.head("/xinwen/rss.xml")
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == get.headers[name]


def test_unknown_paths_hidden_files_and_traversal_are_404(client):
    assert client.get("/nope.html").status_code == 404
    assert client.get("/gbk/.charset").status_code == 404
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/wire/%2e%2e/%2e%2e/newsroom.py").status_code == 404


def test_directory_without_slash_redirects(client):
    resp = client.get("/blog")
    assert resp.status_code == 301 and resp.headers["location"] == "/blog/"


def test_set_file_changes_etag_and_last_modified(fresh):
    with httpx.Client(base_url=fresh.base_url) as c:
        before = c.get("/wire/rss.xml")
        fresh.set_file("/wire/rss.xml", before.content.replace(
            fresh.base_url.encode(), b"{base}").replace(b"<ttl>15</ttl>", b"<ttl>30</ttl>"))
        after = c.get("/wire/rss.xml", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert after.headers["last-modified"] != before.headers["last-modified"]
        assert b"<ttl>30</ttl>" in after.content and b"{base}" not in after.content
        assert len(parse(after).entries) == 8
        since = {"If-Modified-Since": before.headers["last-modified"]}
        assert c.get("/wire/rss.xml", headers=since).status_code == 200


def test_set_file_adds_resources_and_remove_file_hides_them(fresh):
    with httpx.Client(base_url=fresh.base_url) as c:
        fresh.set_file("/extra/new.html", "<p>{base}/x 新</p>")
        resp = c.get("/extra/new.html")
        assert resp.headers["content-type"] == "text/html; charset=utf-8"
        assert resp.text == f"<p>{fresh.base_url}/x 新</p>"
        fresh.set_file("/gbk/extra.html", "<p>河北</p>")  # str bodies follow the charset rule
        assert c.get("/gbk/extra.html").content == "<p>河北</p>".encode("gbk")
        fresh.set_file("/data.bin", b"\x00{base}", content_type="application/octet-stream")
        assert c.get("/data.bin").content == b"\x00{base}"
        fresh.remove_file("/extra/new.html")
        fresh.remove_file("/wire/rss.xml")
        assert c.get("/extra/new.html").status_code == 404
        assert c.get("/wire/rss.xml").status_code == 404
        fresh.set_file("/wire/rss.xml", "<rss version='2.0'><channel></channel></rss>")
        assert c.get("/wire/rss.xml").headers["content-type"].startswith("application/rss+xml")


def test_routes_latency_and_request_log(fresh):
    def teapot(handler):
        handler.send_response(418)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    fresh.add_route("/teapot", teapot)
    fresh.clear_requests()
    with httpx.Client(base_url=fresh.base_url) as c:
        assert c.get("/teapot?x=1", headers={"User-Agent": "probe/1"}).status_code == 418
        assert c.get("/missing").status_code == 404
        fresh.latency = 0.2
        started = time.monotonic()
        assert c.get("/blog/").status_code == 200
        assert time.monotonic() - started >= 0.2
    fresh.latency = 0
    log = list(fresh.requests)
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/teapot?x=1", 418), ("GET", "/missing", 404), ("GET", "/blog/", 200)]
    assert isinstance(log[0], RequestLog)
    assert {k.lower(): v for k, v in log[0].headers.items()}["user-agent"] == "probe/1"
    with pytest.raises(AttributeError):
        log[0].status = 200  # frozen
    fresh.clear_requests()
    assert fresh.requests == []
