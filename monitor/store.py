"""The only module that speaks sqlite-utils: schema, migrations, writes and queries.

The store is laid out to be browsed with Datasette: one row per feed, article,
agreement and digest, with the table and column names that the README calls a
contract. Timestamps are ISO 8601 UTC strings. Writes that belong together run
in one ``BEGIN IMMEDIATE`` transaction (a transaction that reads and then writes
in WAL mode fails at once with "database is locked" unless it takes the write
lock first), and a busy timeout lets a Datasette reader hold the file open.

Full-text search: SQLite's tokenizers find nothing for a two-character Chinese
word, so ``articles_fts`` and ``agreements_fts`` index a segmented copy of the
text in which every run of CJK characters is written as overlapping bigrams
(``segment``); the Datasette plugin turns a search the same way.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlite_utils

from .errors import StoreError
from .types import Agreement, DigestItem, FailingSource, Source, SourceLink

SCHEMA_VERSION = 2
SAME_AGREEMENT_DAYS = 7
CLOCK_SLACK = timedelta(minutes=5)  # a feed polled later than now + this: the clock went back

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


def segment(text: str) -> str:
    """Write each CJK run as overlapping bigrams so FTS finds two-character words."""
    def bigrams(m: re.Match) -> str:
        run = m.group(0)
        if len(run) == 1:
            return f" {run} "
        return " " + " ".join(run[i:i + 2] for i in range(len(run) - 1)) + " "
    return _CJK_RUN.sub(bigrams, text or "")


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FeedState:
    """A feed's row, as the pipeline needs it."""

    id: int
    source: Source
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    next_poll_at: datetime | None
    feed_url: str | None  # a page source's discovered feed


def _wrap(exc: sqlite3.Error, path: Path | str) -> StoreError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return StoreError(f"{path}: {text}")


_F = TypeVar("_F", bound=Callable[..., Any])


def _translated(method: _F) -> _F:
    """Raise every sqlite3 error of ``method`` as a StoreError naming the store.

    Inside ``transaction()`` the StoreError still rolls the transaction back; outside
    it, callers (the pipeline, the daemon) see one exception tree: a full disk or a
    read-only file while recording a poll is a StoreError, not a crash.
    """
    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _wrap(exc, self.path) from exc
    return wrapper  # type: ignore[return-value]


class Store:
    """An open store. Pass it in; never keep one in a module global.

    Every public method raises StoreError, never a bare sqlite3 error.
    """

    def __init__(self, path: str | Path, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        try:
            if str(path) != ":memory:":
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=busy_timeout, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = sqlite_utils.Database(conn)
            self._migrate()
        except sqlite3.Error as exc:
            raise _wrap(exc, path) from exc
        except OSError as exc:
            raise StoreError(f"{path}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One write transaction, taking the write lock first (BEGIN IMMEDIATE)."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _wrap(exc, self.path) from exc
        try:
            yield self
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _wrap(exc, self.path) from exc
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _wrap(exc, self.path) from exc

    # -- schema -------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {version} is newer than this "
                             f"monitor ({SCHEMA_VERSION}); upgrade monitor")
        if version == SCHEMA_VERSION:
            return
        steps = {1: self._create_v1, 2: self._migrate_v2}
        with self.transaction():
            for target in range(version + 1, SCHEMA_VERSION + 1):
                steps[target]()
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate_v2(self) -> None:
        """v2: an index for entry URLs; digests keep the exact message they carry."""
        self.db.table("articles").create_index(["entry_url"], if_not_exists=True)
        if "message" not in self.db.table("digests").columns_dict:
            self.db.table("digests").add_column("message", str)

    def _create_v1(self) -> None:
        db = self.db
        db.table("feeds").create({
            "id": int, "name": str, "url": str, "kind": str, "lang": str, "selector": str,
            "interval": float, "enabled": int, "feed_url": str, "etag": str,
            "last_modified": str, "body_hash": str, "last_polled_at": str,
            "last_ok_at": str, "last_status": int, "last_error": str, "failures": int,
            "state": str, "newest_item_at": str, "item_count": int, "bozo": str,
            "next_poll_at": str,
        }, pk="id", not_null={"name", "url", "kind"},
            defaults={"failures": 0, "enabled": 1, "state": "new"}, if_not_exists=True)
        db.table("feeds").create_index(["url"], unique=True, if_not_exists=True)
        db.table("feeds").create_index(["next_poll_at"], if_not_exists=True)
        db.table("articles").create({
            "id": int, "feed_id": int, "url": str, "guid": str, "title": str,
            "published_at": str, "fetched_at": str, "lang": str, "text": str,
            "content_hash": str, "text_source": str, "entry_url": str, "fetch_error": str,
        }, pk="id", not_null={"url", "fetched_at"}, foreign_keys=[("feed_id", "feeds", "id")],
            if_not_exists=True)
        db.table("articles").create_index(["url"], unique=True, if_not_exists=True)
        db.table("articles").create_index(["feed_id", "guid"], if_not_exists=True)
        db.table("articles").create_index(["published_at"], if_not_exists=True)
        db.table("articles").create_index(["content_hash"], if_not_exists=True)
        db.table("digests").create({
            "id": int, "created_at": str, "sent_at": str, "transport": str,
            "recipients": str, "subject": str, "message_id": str, "agreement_count": int,
            "agreement_ids": str, "path": str,
        }, pk="id", not_null={"created_at"}, if_not_exists=True)
        db.table("agreements").create({
            "id": int, "province": str, "level": str, "government": str, "companies": str,
            "kind": str, "signed_on": str, "first_seen_at": str, "score": float,
            "evidence": str, "rules": str, "digest_id": int,
        }, pk="id", not_null={"province", "level", "companies", "first_seen_at"},
            foreign_keys=[("digest_id", "digests", "id")], if_not_exists=True)
        for cols in (["province"], ["level"], ["kind"], ["signed_on"], ["first_seen_at"],
                     ["digest_id"], ["companies"]):
            db.table("agreements").create_index(cols, if_not_exists=True)
        db.table("agreement_articles").create({
            "agreement_id": int, "article_id": int, "evidence": str, "score": float,
        }, pk=("agreement_id", "article_id"),
            foreign_keys=[("agreement_id", "agreements", "id"), ("article_id", "articles", "id")],
            if_not_exists=True)
        db.table("agreement_articles").create_index(["article_id"], if_not_exists=True)
        db.table("polls").create({
            "id": int, "started_at": str, "finished_at": str, "polled": int, "failed": int,
            "not_modified": int, "new_articles": int, "new_agreements": int, "seconds": float,
        }, pk="id", if_not_exists=True)
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts "
                   "USING fts5(title, text, tokenize='unicode61')")
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS agreements_fts "
                   "USING fts5(evidence, government, tokenize='unicode61')")

    # -- feeds --------------------------------------------------------------------------

    @_translated
    def sync_feeds(self, sources: Sequence[Source], now: datetime) -> None:
        """Make the feeds table match the config: add, update, disable the ones removed."""
        urls = {s.url for s in sources}
        with self.transaction():
            existing = {r["url"]: r for r in self.db.table("feeds").rows}
            for s in sources:
                values = {"name": s.name, "url": s.url, "kind": s.kind, "lang": s.lang,
                          "selector": s.selector, "interval": s.interval, "enabled": 1}
                row = existing.get(s.url)
                if row is None:
                    clash = self.db.execute("SELECT id FROM feeds WHERE name = ?",
                                            [s.name]).fetchone()
                    if clash:  # a renamed URL keeps its history under the name
                        self.db.table("feeds").update(clash[0], {**values, "etag": None,
                                                           "last_modified": None,
                                                           "body_hash": None,
                                                           "feed_url": None})
                    else:
                        self.db.table("feeds").insert({**values, "next_poll_at": iso(now),
                                                 "state": "new", "failures": 0})
                else:
                    self.db.table("feeds").update(row["id"], values)
            for url, row in existing.items():
                if url not in urls and row["enabled"]:
                    self.db.table("feeds").update(row["id"], {"enabled": 0})

    def _feed_state(self, r: dict) -> FeedState:
        return FeedState(
            id=r["id"], source=Source(name=r["name"], url=r["url"], kind=r["kind"],
                                      interval=r["interval"], lang=r["lang"],
                                      selector=r["selector"]),
            etag=r["etag"], last_modified=r["last_modified"], body_hash=r["body_hash"],
            failures=r["failures"] or 0, next_poll_at=parse_iso(r["next_poll_at"]),
            feed_url=r["feed_url"])

    @_translated
    def feeds(self, enabled_only: bool = True) -> list[FeedState]:
        where = "enabled = 1" if enabled_only else None
        rows = self.db.table("feeds").rows_where(where, order_by="id")
        return [self._feed_state(r) for r in rows]

    @_translated
    def due_feeds(self, now: datetime) -> list[FeedState]:
        """Enabled feeds whose next poll time has come.

        A feed last polled more than ``CLOCK_SLACK`` after ``now`` is due too: the
        clock was set back, and its next poll time (set by the clock before) could be
        a day or a year away. (A smaller step back only delays polls by that much.)
        """
        rows = self.db.table("feeds").rows_where(
            "enabled = 1 AND (next_poll_at IS NULL OR next_poll_at <= :now "
            "OR last_polled_at > :back)", {"now": iso(now), "back": iso(now + CLOCK_SLACK)},
            order_by="next_poll_at, id")
        return [self._feed_state(r) for r in rows]

    @_translated
    def feed_rows(self) -> list[dict]:
        return list(self.db.table("feeds").rows_where("enabled = 1", order_by="id"))

    @_translated
    def update_feed(self, feed_id: int, values: dict[str, Any]) -> None:
        self.db.table("feeds").update(feed_id, values)

    # -- articles -----------------------------------------------------------------------

    @_translated
    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(dict.fromkeys(urls))
        found: set[str] = set()
        for i in range(0, len(urls), 500):
            chunk = urls[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r[0] for r in self.db.execute(
                f"SELECT url FROM articles WHERE url IN ({marks})", chunk)}
            found |= {r[0] for r in self.db.execute(
                f"SELECT entry_url FROM articles WHERE entry_url IN ({marks})", chunk)}
        return found

    @_translated
    def known_guids(self, feed_id: int, guids: Iterable[str]) -> dict[str, set[str]]:
        """The titles stored under each of these GUIDs of a feed (GUIDs not stored are absent)."""
        guids = [g for g in dict.fromkeys(guids) if g]
        found: dict[str, set[str]] = {}
        for i in range(0, len(guids), 500):
            chunk = guids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for guid, title in self.db.execute(
                    f"SELECT guid, title FROM articles WHERE feed_id = ? AND guid IN ({marks})",
                    [feed_id, *chunk]):
                found.setdefault(guid, set()).add(title or "")
        return found

    @_translated
    def add_article(self, row: dict[str, Any]) -> int | None:
        """Insert an article; None when its URL or content is already stored."""
        if self.db.execute("SELECT 1 FROM articles WHERE url = ?", [row["url"]]).fetchone():
            return None
        if row.get("content_hash") and self.db.execute(
                "SELECT 1 FROM articles WHERE content_hash = ? AND feed_id = ?",
                [row["content_hash"], row.get("feed_id")]).fetchone():
            return None
        article_id = self.db.table("articles").insert(row).last_pk
        self.db.execute("INSERT INTO articles_fts(rowid, title, text) VALUES (?, ?, ?)",
                        [article_id, segment(row.get("title") or ""),
                         segment(row.get("text") or "")])
        return article_id

    # -- agreements ---------------------------------------------------------------------

    @_translated
    def find_same_agreement(self, a: Agreement, now: datetime) -> int | None:
        """An agreement row that is this one reported again (same parties, within 7 days)."""
        companies = json.dumps(sorted(a.companies), ensure_ascii=False)
        rows = self.db.execute(
            "SELECT id, signed_on, first_seen_at FROM agreements "
            "WHERE province = ? AND companies = ? ORDER BY id DESC", [a.province, companies])
        window = timedelta(days=SAME_AGREEMENT_DAYS)
        for agreement_id, signed_on, first_seen in rows:
            if a.signed_on and signed_on:
                if abs(date.fromisoformat(signed_on) - a.signed_on) <= window:
                    return agreement_id
            else:
                seen = parse_iso(first_seen)
                if seen and abs(now - seen) <= window:
                    return agreement_id
        return None

    @_translated
    def add_agreement(self, a: Agreement, article_id: int, now: datetime) -> tuple[int, bool]:
        """Store an agreement reported by an article; (id, True) when it is new."""
        existing = self.find_same_agreement(a, now)
        if existing is None:
            agreement_id = self.db.table("agreements").insert({
                "province": a.province, "level": a.level, "government": a.government,
                "companies": json.dumps(sorted(a.companies), ensure_ascii=False),
                "kind": a.kind, "signed_on": a.signed_on.isoformat() if a.signed_on else None,
                "first_seen_at": iso(now), "score": a.score, "evidence": a.evidence,
                "rules": json.dumps(list(a.rules)), "digest_id": None}).last_pk
            self.db.execute("INSERT INTO agreements_fts(rowid, evidence, government) "
                            "VALUES (?, ?, ?)",
                            [agreement_id, segment(a.evidence), segment(a.government)])
            is_new = True
        else:
            agreement_id, is_new = existing, False
            row = self.db.table("agreements").get(agreement_id)
            updates: dict[str, Any] = {}
            if not row["signed_on"] and a.signed_on:
                updates["signed_on"] = a.signed_on.isoformat()
            if a.score > (row["score"] or 0) and row["digest_id"] is None:
                updates.update(score=a.score, evidence=a.evidence, government=a.government,
                               kind=a.kind, rules=json.dumps(list(a.rules)))
            if updates:
                self.db.table("agreements").update(agreement_id, updates)
        self.db.table("agreement_articles").upsert({
            "agreement_id": agreement_id, "article_id": article_id, "evidence": a.evidence,
            "score": a.score}, pk=("agreement_id", "article_id"))
        return cast(int, agreement_id), is_new

    @staticmethod
    def _agreement(row: dict) -> Agreement:
        return Agreement(
            province=row["province"], level=row["level"], government=row["government"] or "",
            companies=tuple(json.loads(row["companies"] or "[]")), kind=row["kind"] or "other",
            signed_on=date.fromisoformat(row["signed_on"]) if row["signed_on"] else None,
            score=row["score"] or 0.0, evidence=row["evidence"] or "",
            rules=tuple(json.loads(row["rules"] or "[]")))

    @_translated
    def digest_items(self, agreement_ids: Sequence[int]) -> list[DigestItem]:
        items = []
        for agreement_id in agreement_ids:
            row = self.db.table("agreements").get(agreement_id)
            links = tuple(SourceLink(
                title=r["title"] or r["url"], url=r["url"], source=r["name"] or "",
                published=date.fromisoformat(r["published_at"][:10]) if r["published_at"]
                else None)
                for r in self.db.query(
                    "SELECT a.title, a.url, a.published_at, f.name FROM agreement_articles aa "
                    "JOIN articles a ON a.id = aa.article_id "
                    "LEFT JOIN feeds f ON f.id = a.feed_id "
                    "WHERE aa.agreement_id = ? ORDER BY a.published_at, a.id", [agreement_id]))
            earlier = tuple(self._agreement(r) for r in self.db.query(
                "SELECT * FROM agreements WHERE province = ? AND companies = ? AND id < ? "
                "ORDER BY coalesce(signed_on, first_seen_at)",
                [row["province"], row["companies"], agreement_id]))
            items.append(DigestItem(agreement_id=agreement_id, agreement=self._agreement(row),
                                    first_seen_at=parse_iso(row["first_seen_at"]) or now_utc(),
                                    articles=links, earlier=earlier))
        return items

    @_translated
    def undigested_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT id FROM agreements WHERE digest_id IS NULL ORDER BY province, id")]

    @_translated
    def failing_sources(self) -> list[FailingSource]:
        return [FailingSource(name=r["name"], url=r["url"], failures=r["failures"],
                              last_error=r["last_error"] or "")
                for r in self.db.table("feeds").rows_where("enabled = 1 AND failures > 0",
                                                     order_by="failures DESC, name")]

    # -- digests ------------------------------------------------------------------------

    @_translated
    def pending_digest(self) -> dict | None:
        """A digest that was prepared but not confirmed sent (the process died mid-send)."""
        rows = list(self.db.table("digests").rows_where("sent_at IS NULL", order_by="id", limit=1))
        return rows[0] if rows else None

    @_translated
    def create_digest(self, *, now: datetime, subject: str, message_id: str,
                      recipients: Sequence[str], agreement_ids: Sequence[int],
                      message: str | None = None) -> int:
        """A pending digest row; ``message`` is the whole message, resent as it is if the
        send is not confirmed."""
        with self.transaction():
            return cast(int, self.db.table("digests").insert({
                "created_at": iso(now), "sent_at": None, "transport": None,
                "recipients": ", ".join(recipients), "subject": subject,
                "message_id": message_id, "agreement_count": len(agreement_ids),
                "agreement_ids": json.dumps(list(agreement_ids)), "message": message}).last_pk)

    @_translated
    def mark_digest_sent(self, digest_id: int, *, now: datetime, transport: str,
                         path: str | None = None,
                         recipients: Sequence[str] | None = None) -> None:
        """Confirm a digest delivered; ``recipients``, when given, are those that got it."""
        with self.transaction():
            row = self.db.table("digests").get(digest_id)
            ids = json.loads(row["agreement_ids"] or "[]")
            values: dict[str, Any] = {"sent_at": iso(now), "transport": transport, "path": path}
            if recipients is not None:
                values["recipients"] = ", ".join(recipients)
            self.db.table("digests").update(digest_id, values)
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                self.db.execute(f"UPDATE agreements SET digest_id = ? WHERE id IN ({marks}) "
                                "AND digest_id IS NULL", [digest_id, *chunk])

    @_translated
    def last_sent_at(self) -> datetime | None:
        """When the latest digest (in the order they were made) was confirmed sent.

        Not ``max(sent_at)``: after the clock was set back, the newest digest is the
        one that tells when the last digest went out.
        """
        row = self.db.execute("SELECT sent_at FROM digests WHERE sent_at IS NOT NULL "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        return parse_iso(row[0]) if row else None

    @_translated
    def first_poll_at(self) -> datetime | None:
        row = self.db.execute("SELECT min(started_at) FROM polls").fetchone()
        return parse_iso(row[0]) if row else None

    @_translated
    def record_poll(self, values: dict[str, Any]) -> None:
        self.db.table("polls").insert(values)

    @_translated
    def count(self, table: str) -> int:
        return self.db[table].count

    @_translated
    def agreements_table(self) -> list[dict]:
        return list(self.db.query(
            "SELECT ag.id, ag.province, ag.level, ag.government, ag.companies, ag.kind, "
            "ag.signed_on, ag.score, count(aa.article_id) AS reports FROM agreements ag "
            "LEFT JOIN agreement_articles aa ON aa.agreement_id = ag.id "
            "GROUP BY ag.id ORDER BY ag.province, ag.id"))
