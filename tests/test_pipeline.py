"""End to end on loopback: newsroom -> poll -> store -> digest over real SMTP."""

from __future__ import annotations

import email
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy as email_policy

import httpx
import pytest

from monitor.demo.newsroom import DEFAULT_SITE
from monitor.dispatch import send_digest
from monitor.mail import SmtpSettings
from monitor.pipeline import next_poll, poll_once
from monitor.store import Store
from monitor.types import Source

from .conftest import answer

LABELS = json.loads((DEFAULT_SITE / "labels.json").read_text(encoding="utf-8"))


def expected_pairs() -> set[tuple[str, tuple[str, ...]]]:
    return {(a["province"], tuple(sorted(a["companies"])))
            for agreements in LABELS.values() for a in agreements}


def stored_pairs(store: Store) -> list[tuple[str, tuple[str, ...]]]:
    return [(r["province"], tuple(json.loads(r["companies"])))
            for r in store.db["agreements"].rows]


def smtp_for(server) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=10)


def test_end_to_end_poll_store_digest(make_config, smtp_server, newsroom):
    cfg = make_config()
    with Store(cfg.store_path) as store:
        report = poll_once(cfg, store)
        assert report.failed == 0 and report.polled == len(cfg.feeds)
        assert report.new_articles == store.count("articles") >= 30
        pairs = stored_pairs(store)
        assert sorted(set(pairs)) == sorted(expected_pairs())
        assert len(pairs) == len(set(pairs)), "one row per agreement"
        assert report.new_agreements == len(pairs)
        # several outlets reported Hebei-Alibaba: one agreement row, several reports
        hebei = store.db.execute(
            "SELECT a.id, count(*) FROM agreements a JOIN agreement_articles aa "
            "ON aa.agreement_id = a.id WHERE province = 'Hebei' AND companies = '[\"Alibaba\"]' "
            "GROUP BY a.id").fetchall()
        assert len(hebei) == 1 and hebei[0][1] >= 2
        # the 2018 Chongqing agreement is background, not news
        assert not store.db.execute(
            "SELECT 1 FROM agreements WHERE signed_on LIKE '2018%'").fetchone()
        # text sources: GBK pages decoded, not mojibake
        zh = [r["text"] for r in store.db["articles"].rows_where("url LIKE '%/gbk/%'")]
        assert zh and all("\ufffd" not in t for t in zh) and any("河北" in t for t in zh)

        outcome = send_digest(cfg, store, datetime.now(UTC), smtp=smtp_for(smtp_server))
        assert outcome.delivery.transport == "smtp"
        assert len(smtp_server.envelopes) == 1
        msg = email.message_from_bytes(smtp_server.envelopes[0].content,
                                       policy=email_policy.default)
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for province, _ in expected_pairs():
            assert province in text and province in html
        assert str(len(pairs)) in msg["Subject"]
        assert "http://" in html and "<script" not in html
        undigested = store.db.execute(
            "SELECT count(*) FROM agreements WHERE digest_id IS NULL").fetchone()[0]
        assert undigested == 0
        row = store.db["digests"].get(outcome.digest_id)
        assert row["sent_at"] and row["message_id"] == msg["Message-ID"]
        # a second digest sends nothing
        again = send_digest(cfg, store, datetime.now(UTC), smtp=smtp_for(smtp_server))
        assert again.digest is None and len(smtp_server.envelopes) == 1


def test_second_poll_is_all_304_and_adds_nothing(make_config, newsroom):
    cfg = make_config()
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        counts = {t: store.count(t) for t in ("articles", "agreements", "agreement_articles")}
        newsroom.clear_requests()
        report = poll_once(cfg, store)
        assert report.not_modified == report.polled == len(cfg.feeds)
        assert report.new_articles == report.new_agreements == 0
        assert {t: store.count(t) for t in counts} == counts
        statuses = [r.status for r in newsroom.requests]
        assert statuses and set(statuses) == {304}, statuses
        assert store.count("polls") == 2


def test_unchanged_body_without_validators_is_not_parsed(make_config, newsroom):
    """A server that drops ETag/Last-Modified but serves the same bytes: nothing is parsed."""
    cfg = make_config()
    feed = httpx.get(newsroom.url("/wire/rss.xml")).content

    def no_validators(h):
        answer(h, 200, feed, Content_Type="application/rss+xml")
    newsroom.add_route("/wire/rss.xml", no_validators)
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        newsroom.clear_requests()
        report = poll_once(cfg, store)
        assert report.not_modified == report.polled
        assert not [r for r in newsroom.requests if r.path.startswith("/wire/20")]


def test_new_item_between_polls_attaches_to_known_agreement(make_config, newsroom):
    cfg = make_config()
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        before = store.db.execute(
            "SELECT a.id, count(*) FROM agreements a JOIN agreement_articles aa "
            "ON aa.agreement_id = a.id WHERE province = 'Hebei' AND companies = '[\"Tencent\"]' "
            "GROUP BY a.id").fetchone()
        page = ("<html><head><title>Tencent and Hebei seal cloud pact</title></head><body>"
                "<article><h1>Tencent and Hebei seal cloud pact</h1><p>SHIJIAZHUANG, Oct 12 "
                "(Late Wire) - Tencent Holdings signed a strategic cooperation agreement with "
                "the Hebei provincial government on Friday at the China International Digital "
                "Economy Expo in Shijiazhuang, the company said.</p><p>Under the agreement, "
                "the two sides will work on cloud computing, big data and WeChat-based "
                "government services across the province, and Tencent will help Hebei build "
                "an e-sports industry.</p><p>Officials said more projects would follow."
                "</p></article></body></html>")
        newsroom.set_file("/late/tencent-hebei.html", page, "text/html; charset=utf-8")
        newsroom.set_file("/late/rss.xml", (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Late Wire</title><link>{base}/late/</link><description>x</description>"
            "<item><title>Tencent and Hebei seal cloud pact</title>"
            "<link>{base}/late/tencent-hebei.html?utm_source=rss&amp;utm_medium=feed</link>"
            "<guid>late-1</guid><pubDate>Sat, 12 Oct 2019 08:00:00 +0800</pubDate>"
            "<description>Tencent signs with Hebei.</description></item>"
            "</channel></rss>"), "application/rss+xml; charset=utf-8")
        late = Source(name="Late Wire", url=newsroom.url("/late/rss.xml"))
        cfg2 = replace(cfg, feeds=(*cfg.feeds, late))
        report = poll_once(cfg2, store)
        assert report.new_articles == 1 and report.new_agreements == 0
        after = store.db.execute(
            "SELECT a.id, count(*) FROM agreements a JOIN agreement_articles aa "
            "ON aa.agreement_id = a.id WHERE province = 'Hebei' AND companies = '[\"Tencent\"]' "
            "GROUP BY a.id").fetchone()
        assert after[0] == before[0] and after[1] == before[1] + 1
        url = store.db.execute("SELECT url FROM articles WHERE guid LIKE '%late-1'").fetchone()[0]
        assert "utm_" not in url  # canonical URL
        # polled again: the entry is known by URL and GUID, its page is not fetched again
        newsroom.clear_requests()
        newsroom.set_file("/late/rss.xml", newsroom_body(newsroom, "/late/rss.xml") + b" ")
        poll_once(cfg2, store)
        assert not [r for r in newsroom.requests if r.path.startswith("/late/tencent")]


def newsroom_body(newsroom, path: str) -> bytes:
    return httpx.get(newsroom.url(path)).content


def test_a_failing_source_does_not_stop_the_others(make_config, newsroom):
    cfg = make_config()
    broken = (Source(name="Gone", url=newsroom.url("/nothing-here.xml")),
              Source(name="Not a feed", url=newsroom.url("/blog/about.html")))
    cfg = replace(cfg, feeds=cfg.feeds + broken)
    with Store(cfg.store_path) as store:
        report = poll_once(cfg, store)
        assert report.failed == 2 and report.polled == len(cfg.feeds)
        assert store.count("agreements") >= 4
        gone = next(store.db["feeds"].rows_where("name = 'Gone'"))
        assert gone["failures"] == 1 and gone["last_status"] == 404
        assert "HTTP 404" in gone["last_error"] and gone["state"] == "failing"
        bad = next(store.db["feeds"].rows_where("name = 'Not a feed'"))
        assert "not an RSS or Atom feed" in bad["last_error"]


@pytest.mark.parametrize("failures,expected", [(0, 1800 * 1.05), (1, 1800), (2, 3600),
                                               (3, 7200), (20, 86400)])
def test_backoff_schedule(failures, expected):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    got = next_poll(now, 1800, failures=failures, jitter=0.1, rand=0.5)
    assert (got - now).total_seconds() == pytest.approx(expected)


def test_retry_after_is_honoured_but_capped():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert (next_poll(now, 60, failures=1, retry_after=600) - now).total_seconds() == 600
    capped = next_poll(now, 60, failures=1, retry_after=10**9, backoff_max=3600)
    assert (capped - now).total_seconds() == 3600


def test_unfetchable_page_falls_back_to_the_feed_summary(make_config, newsroom):
    newsroom.set_file("/gone/rss.xml", (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Gone Wire</title><link>{base}/gone/</link><description>x</description>"
        "<item><title>Huawei and Guizhou sign cloud pact</title>"
        "<link>{base}/gone/missing-page.html</link><guid>gone-1</guid>"
        "<pubDate>Wed, 16 Oct 2019 08:00:00 +0800</pubDate>"
        "<description>&lt;p&gt;Huawei signed a strategic cooperation agreement with the Guizhou "
        "provincial government on Tuesday in Guiyang, covering cloud computing and big data."
        "&lt;/p&gt;</description></item>"
        "<item><title>Link to an intranet host</title>"
        "<link>http://10.1.2.3/secret.html</link><guid>gone-2</guid>"
        "<description>An entry pointing at a private address.</description></item>"
        "</channel></rss>"), "application/rss+xml; charset=utf-8")
    cfg = make_config()
    cfg = replace(cfg, feeds=(Source(name="Gone Wire", url=newsroom.url("/gone/rss.xml")),))
    with Store(cfg.store_path) as store:
        report = poll_once(cfg, store)
        assert report.new_articles == 2 and report.failed == 0
        row = next(store.db.table("articles").rows_where("guid LIKE '%gone-1'"))
        assert row["text_source"] == "feed" and "HTTP 404" in row["fetch_error"]
        assert "Guizhou provincial government" in row["text"] and "<p>" not in row["text"]
        agreement = next(store.db.table("agreements").rows)
        assert agreement["province"] == "Guizhou" and agreement["signed_on"] == "2019-10-15"
        blocked = next(store.db.table("articles").rows_where("guid LIKE '%gone-2'"))
        assert blocked["text_source"] == "feed" and "private" in blocked["fetch_error"]


def _feed(items: list[tuple[str, str, str, str]]) -> str:
    """RSS with (guid, title, link path, description) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>{{base}}{p}</link>"
        f"<pubDate>Wed, 16 Oct 2019 08:00:00 +0800</pubDate><description>{d}</description></item>"
        for g, t, p, d in items)
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Odd'
            f"</title><link>{{base}}/odd/</link><description>x</description>{body}</channel></rss>")


def _page(title: str, text: str) -> str:
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>")


SIGNED = ("Baidu signed a strategic cooperation agreement with the Hunan provincial government "
          "on Tuesday in Changsha, covering autonomous driving and cloud services.")


def test_changing_content_guids_and_shared_guids_give_one_report(make_config, newsroom):
    newsroom.set_file("/odd/a.html", _page("Baidu and Hunan sign", SIGNED), "text/html")
    newsroom.set_file("/odd/b.html", _page("Hunan weather", "Rain is expected in Hunan."),
                      "text/html")
    newsroom.set_file("/odd/c.html", _page("Hunan tea harvest", "Tea growers in Hunan began "
                                            "the autumn harvest this week."), "text/html")
    cfg = replace(make_config(), feeds=(Source(name="Odd", url=newsroom.url("/odd/rss.xml")),))
    with Store(cfg.store_path) as store:
        for n in range(4):
            # the agreement's item: its description changes every fetch and its GUID every
            # other; two unrelated stories share one GUID
            newsroom.set_file("/odd/rss.xml", _feed([
                (f"a-{n // 2}", "Baidu and Hunan sign", "/odd/a.html", f"Version {n}"),
                ("shared", "Hunan weather", "/odd/b.html", "Rain."),
                ("shared", "Hunan tea harvest", "/odd/c.html", "Tea."),
            ]), "application/rss+xml; charset=utf-8")
            report = poll_once(cfg, store)
            assert report.failed == 0
            if n == 0:
                assert report.new_articles == 3 and report.new_agreements == 1
            else:
                assert report.new_articles == 0 and report.new_agreements == 0
        assert store.count("articles") == 3  # both stories sharing a GUID are kept
        assert store.count("agreements") == 1 and store.count("agreement_articles") == 1


def test_error_storm_backs_off_honours_retry_after_and_recovers(make_config, newsroom):
    from monitor.store import parse_iso

    state = {"status": 503, "retry": "120"}
    feed_body = httpx.get(newsroom.url("/wire/rss.xml")).content

    def storm(h):
        if state["status"] != 200:
            retry = {"Retry_After": state["retry"]} if state["retry"] else {}
            answer(h, state["status"], **retry)
        else:
            answer(h, 200, feed_body, Content_Type="application/rss+xml")
    newsroom.add_route("/storm.xml", storm)
    clock = {"now": datetime(2026, 1, 1, tzinfo=UTC)}
    cfg = replace(make_config(poll={"interval": "10m"}),
                  feeds=(Source(name="Storm", url=newsroom.url("/storm.xml")),))
    waits = []
    with Store(cfg.store_path) as store:
        for status, retry in ((503, "120"), (502, None), (500, None), (429, "7200"), (200, None)):
            state.update(status=status, retry=retry)
            poll_once(cfg, store, clock=lambda: clock["now"])
            row = next(store.db.table("feeds").rows_where("name = 'Storm'"))
            waits.append((parse_iso(row["next_poll_at"]) - clock["now"]).total_seconds())
            if status != 200:
                assert row["state"] == "failing" and row["last_status"] == status
            clock["now"] += timedelta(hours=2)
        assert [row["failures"] for row in store.db.table("feeds").rows] == [0]
        assert row["state"] == "ok" and row["last_error"] is None
    assert waits[0] == 600  # Retry-After 120 s is shorter than the interval's backoff
    assert waits[1] == 1200 and waits[2] == 2400  # doubling
    assert waits[3] == 7200  # Retry-After 2 h is longer than the 80 min backoff: honoured
    assert 600 <= waits[4] <= 600 * 1.1  # recovered: the plain interval plus jitter


def test_an_entry_that_could_not_be_read_is_retried_next_poll(make_config, newsroom):
    """A new entry with an unreachable page and nothing in the feed to fall back on is not
    lost: the feed's validators are not kept, so the next poll reads it again."""
    newsroom.set_file("/flaky/rss.xml", _feed([("f-1", "", "/flaky/a.html", "")]),
                      "application/rss+xml; charset=utf-8")
    cfg = replace(make_config(), feeds=(Source(name="Flaky", url=newsroom.url("/flaky/rss.xml")),))
    with Store(cfg.store_path) as store:
        report = poll_once(cfg, store)  # the page is 404 and the entry has no title or summary
        assert report.failed == 0 and report.new_articles == 0
        newsroom.set_file("/flaky/a.html", _page("Baidu and Hunan sign", SIGNED), "text/html")
        report = poll_once(cfg, store)  # same feed bytes, same ETag: read again all the same
        assert report.new_articles == 1 and report.new_agreements == 1
        report = poll_once(cfg, store)  # and now it is known
        assert report.not_modified == 1 and report.new_articles == 0


def test_relative_dates_resolve_from_the_publishers_own_day():
    """An item stamped 06:30 +0800 on 14 October was published on the 14th in Beijing (the
    13th in UTC): 昨日 in its text is the 13th, not the 12th."""
    from monitor import pipeline
    from monitor.feeds import parse_feed

    rss = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
           "<item><title>腾讯与广东省政府签署战略合作协议</title><link>http://x.example/a</link>"
           "<pubDate>Mon, 14 Oct 2019 06:30:00 +0800</pubDate><description>"
           "腾讯公司昨日与广东省人民政府在广州签署全面战略合作协议，双方将在数字政府领域深化合作。"
           "</description></item></channel></rss>").encode()
    entry = parse_feed(rss, {"content-type": "application/rss+xml"}, "http://x.example/rss").entries[0]
    assert entry.published.date().isoformat() == "2019-10-14"
    pipeline._worker_init([])
    result = pipeline._work_article(entry, None, None, entry.url, "zh", 0.5, "not fetched")
    assert result.row["published_at"] == "2019-10-13T22:30:00+00:00"  # stored in UTC
    assert [(a.province, a.signed_on.isoformat()) for a in result.agreements] == [
        ("Guangdong", "2019-10-13")]


def test_a_discovered_feed_that_dies_sends_the_source_back_to_its_page(make_config, newsroom):
    cfg = make_config()
    portal = next(f for f in cfg.feeds if f.url.endswith("/portal/"))
    cfg = replace(cfg, feeds=(portal,))
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
        row = next(store.db.table("feeds").rows)
        assert row["feed_url"].endswith("/portal/feed.xml")
        newsroom.remove_file("/portal/feed.xml")
        assert poll_once(cfg, store).failed == 1
        row = next(store.db.table("feeds").rows)
        assert row["feed_url"] is None and row["etag"] is None
        newsroom.clear_requests()
        poll_once(cfg, store)  # the page is read again (and still points at the dead feed)
        assert [r.path for r in newsroom.requests][:1] == ["/portal/"]
