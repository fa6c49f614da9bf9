"""Datasette on a polled store, as a real process: JSON API and search (English and Chinese)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from monitor.pipeline import poll_once
from monitor.store import Store

from .conftest import free_port

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>"


@pytest.fixture
def served_store(make_config):
    cfg = make_config()
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        with store.transaction():  # an article whose title and text carry markup
            store.add_article({"url": "https://hostile.example/a", "title": HOSTILE,
                               "text": f"{HOSTILE} javascript:alert(2)",
                               "fetched_at": "2026-01-01T00:00:00+00:00"})
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "serve", "--db",
                             str(cfg.store_path), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("datasette did not start")
        yield base + "/" + cfg.store_path.stem, cfg
    finally:
        proc.terminate()
        proc.wait(10)


def test_datasette_api_and_search(served_store):
    base, cfg = served_store
    rows = httpx.get(f"{base}/agreements.json?_shape=array", timeout=10).json()
    with Store(cfg.store_path) as store:
        assert len(rows) == store.count("agreements") >= 4
    assert {r["province"] for r in rows} >= {"Hebei", "Chongqing", "Yunnan"}
    en = httpx.get(f"{base}/articles.json", params={"_search": "Alibaba", "_shape": "array"},
                   timeout=10).json()
    assert en and any("Alibaba" in (r["title"] + r["text"]) for r in en)
    zh = httpx.get(f"{base}/articles.json", params={"_search": "腾讯", "_shape": "array"},
                   timeout=10).json()
    assert zh and all("腾讯" in (r["title"] + r["text"]) or "騰訊" in (r["title"] + r["text"])
                      for r in zh)
    four = httpx.get(f"{base}/articles.json", params={"_search": "阿里巴巴", "_shape": "array"},
                     timeout=10).json()
    assert four and all("阿里巴巴" in (r["title"] + r["text"]) for r in four)
    canned = httpx.get(f"{base}/article_search.json", params={"q": "河北", "_shape": "array"},
                       timeout=10).json()
    assert canned
    by_company = httpx.get(f"{base}/by_company.json?_shape=array", timeout=10).json()
    assert {r["company"] for r in by_company} >= {"Alibaba", "Tencent"}
    meta = httpx.get(f"{base}/agreements.json", timeout=10).json()
    assert "facet_results" in meta or meta.get("rows")


def test_markup_in_articles_is_inert_in_datasette(served_store):
    base, _ = served_store
    page = httpx.get(f"{base}/articles", params={"_search": "alert"}, timeout=10)
    assert page.status_code == 200
    assert "alert(&#39;x&#39;)" in page.text or "alert(&#x27;x&#x27;)" in page.text
    assert HOSTILE not in page.text and "<script>alert" not in page.text
    assert "<img src=x onerror" not in page.text
