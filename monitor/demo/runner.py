"""``monitor demo``: the whole pipeline, offline, on the bundled sample newsroom.

Starts the newsroom on 127.0.0.1 (a free port), points a config at it that
allows only that host and port, polls once over real HTTP into ``var/demo.db``,
writes the digest to ``var/outbox/`` and returns the agreements found.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import Config, from_dict
from ..dispatch import DigestOutcome, send_digest
from ..pipeline import poll_once
from ..store import Store
from ..types import RunReport
from . import SOURCES_FILE
from .newsroom import Newsroom


def demo_sources(base_url: str) -> list[dict[str, Any]]:
    """The bundled sources as [[feeds]] tables pointing at a newsroom at ``base_url``."""
    data = tomllib.loads(SOURCES_FILE.read_text(encoding="utf-8"))
    feeds = []
    for item in data.get("feeds", []):
        item = dict(item)
        item["url"] = base_url + item.pop("path")
        feeds.append(item)
    return feeds


def demo_config(base_url: str, var: Path, **sections: dict[str, Any]) -> Config:
    """A config for the newsroom at ``base_url``: only its host:port may be fetched."""
    host = urlsplit(base_url).netloc
    data: dict[str, Any] = {
        "store": {"path": str(var / "demo.db")},
        "poll": {"interval": "1h", "timeout": "10s", "allow_private": [host],
                 "user_agent": "monitor-demo/0.1", "workers": 1},
        "digest": {"to": ["analyst@example.org"], "from": "monitor@example.org",
                   "outbox": str(var / "outbox")},
        "smtp": {"host": ""},
        "feeds": demo_sources(base_url),
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return from_dict(data)


@dataclass(frozen=True)
class DemoResult:
    report: RunReport
    agreements: list[dict]
    digest: DigestOutcome
    store_path: Path


def run_demo(var: Path, *, fresh: bool = True) -> DemoResult:
    var = var.resolve()
    var.mkdir(parents=True, exist_ok=True)
    db = var / "demo.db"
    if fresh:
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
    with Newsroom() as news:
        cfg = demo_config(news.base_url, var)
        with Store(cfg.store_path) as store:
            report = poll_once(cfg, store)
            outcome = send_digest(cfg, store, datetime.now(UTC))
            rows = store.agreements_table()
    return DemoResult(report=report, agreements=rows, digest=outcome, store_path=db)
