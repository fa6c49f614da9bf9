"""config.toml -> a frozen Config.

Every setting is declared once in ``SETTINGS`` with its default and a line of help;
the README's configuration table is checked against that table by a test. A bad
file raises ConfigError with one line naming the file, the key and the problem.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .types import Source

DEFAULT_PATH = "config.toml"
ENV_VAR = "MONITOR_CONFIG"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any) -> float:
    """'15m' -> 900.0; '1h30m' -> 5400.0; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError("is not a duration (use e.g. 30s, 15m, 6h)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("is not a duration (use e.g. 30s, 15m, 6h)")
    text = value.strip().lower().replace(" ", "")
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 15m, 6h)")
    return total


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def _int(minimum: int = 0) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not a whole number")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value
    return check


def _float01(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    if not 0 <= value <= 1:
        raise ValueError("must be between 0 and 1")
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true or false")
    return value


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(value)


def _time_of_day(value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValueError(f"{value!r} is not a time of day (use HH:MM)")
    h, m = (int(x) for x in value.strip().split(":"))
    if h > 23 or m > 59:
        raise ValueError(f"{value!r} is not a time of day (use HH:MM)")
    return time(h, m)


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a timezone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known timezone (use e.g. Asia/Shanghai)") from None
    return value


def _email(value: Any) -> str:
    text = _str(value)
    if text and not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+", text):
        raise ValueError(f"{value!r} is not an email address")
    return text


def _email_list(value: Any) -> tuple[str, ...]:
    return tuple(_email(v) for v in _str_list(value))


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return value
    return check


def _allow_entry(value: Any) -> tuple[str, ...]:
    out = []
    for item in _str_list(value):
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            if item.startswith("["):  # [IPv6] or [IPv6]:port
                host, _, rest = item[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else rest
            else:
                has_port = ":" in item
                host, _, port = item.rpartition(":") if has_port else (item, "", "")
            if not host or (port and not port.isdigit()):
                raise ValueError(f"{item!r} is not a host, host:port or CIDR") from None
        out.append(item)
    return tuple(out)


SUBJECT_FIELDS = {"count": 3, "date": "2026-01-01", "provinces": "Hebei", "companies": "Alibaba",
                  "title": "title"}


def _subject(value: Any) -> str:
    """A subject template: only the fields the digest fills in ({count}, {date}, ...)."""
    text = _str(value)
    try:
        text.format_map(SUBJECT_FIELDS)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        known = ", ".join("{" + k + "}" for k in SUBJECT_FIELDS)
        raise ValueError(f"{value!r} is not a subject template ({type(exc).__name__}: "
                         f"{exc}); known fields: {known}") from None
    return text


def _port(value: Any) -> int:
    port = _int(1)(value)
    if port > 65535:
        raise ValueError(f"{port} is not a port (1 to 65535)")
    return port


def _http_url(value: Any) -> str:
    text = _str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return text


@dataclass(frozen=True)
class Setting:
    parse: Callable[[Any], Any]
    default: Any
    help: str


# section -> key -> Setting. The README documents each of these; a test checks it.
SETTINGS: dict[str, dict[str, Setting]] = {
    "store": {
        "path": Setting(_str, "var/monitor.db",
                        "SQLite file; relative paths are from the config file"),
        "busy_timeout": Setting(_positive_duration, 30.0, "how long a write waits for a reader"),
    },
    "poll": {
        "interval": Setting(_positive_duration, 1800.0, "default time between polls of a source"),
        "concurrency": Setting(_int(1), 32, "requests in flight at once, all hosts"),
        "per_host": Setting(_int(1), 4, "requests in flight at once to one host"),
        "timeout": Setting(_positive_duration, 20.0, "whole-request deadline (wall clock)"),
        "connect_timeout": Setting(_positive_duration, 10.0, "TCP/TLS connect timeout"),
        "max_bytes": Setting(_int(1024), 10_000_000, "cap on a response body after decompression"),
        "max_redirects": Setting(_int(0), 5, "redirects followed per request"),
        "user_agent": Setting(_str, "monitor/0.1 (+https://example.org/monitor)",
                              "User-Agent header"),
        "allow_private": Setting(_allow_entry, (),
                                 "hosts, host:port or CIDR allowed though private or loopback"),
        "max_entries": Setting(_int(1), 50, "newest entries read from one feed per poll"),
        "stale_after": Setting(_positive_duration, 14 * 86400.0,
                               "a source whose newest item is older is shown stale"),
        "backoff_max": Setting(_positive_duration, 86400.0, "longest wait after failures"),
        "store_retry_max": Setting(_positive_duration, 900.0,
                                   "longest wait after polls that could not write the store"),
        "jitter": Setting(_float01, 0.1, "random share of the interval added to each poll"),
        "workers": Setting(_int(0), 0, "processes for parsing and classifying (0: one per core)"),
    },
    "classifier": {
        "threshold": Setting(_float01, 0.5, "lowest score reported as an agreement"),
        "rules": Setting(_str_list, (), "extra rule files (TOML) loaded after the built-in ones"),
    },
    "digest": {
        "time": Setting(_time_of_day, time(8, 0), "local time of the daily digest"),
        "timezone": Setting(_timezone, "Asia/Shanghai", "timezone of digest.time"),
        "to": Setting(_email_list, (), "recipients"),
        "from": Setting(_email, "monitor@localhost", "sender address"),
        "subject": Setting(_subject, "[monitor] {count} new agreement(s) — {date}",
                           "subject; {count} and {date} are filled in"),
        "outbox": Setting(_str, "var/outbox", "folder for .eml files when [smtp] has no host"),
        "send_empty": Setting(_bool, False, "send a digest even when nothing is new"),
        "retry_min": Setting(_positive_duration, 300.0,
                             "wait after a failed digest before the next try (then doubling)"),
        "retry_max": Setting(_positive_duration, 3600.0, "longest wait between digest tries"),
    },
    "smtp": {
        "host": Setting(_str, "", "SMTP server; empty writes to the outbox instead"),
        "port": Setting(_port, 587, "SMTP port"),
        "security": Setting(_choice("starttls", "ssl", "none"), "starttls",
                            "starttls, ssl or none"),
        "username": Setting(_str, "", "login name; empty for no login"),
        "password_env": Setting(_str, "MONITOR_SMTP_PASSWORD",
                                "name of the environment variable holding the password"),
        "timeout": Setting(_positive_duration, 30.0, "timeout of each SMTP call"),
    },
}

FEED_SETTINGS: dict[str, Setting] = {
    "name": Setting(_str, None, "display name (unique)"),
    "url": Setting(_http_url, None, "feed or page URL (unique)"),
    "kind": Setting(_choice("feed", "page"), "feed", "feed (RSS/Atom) or page (an index)"),
    "interval": Setting(_positive_duration, None, "this source's poll interval"),
    "lang": Setting(_choice("en", "zh"), None, "language hint"),
    "selector": Setting(_str, None, "CSS selector of article links on a page source"),
}


@dataclass(frozen=True)
class Section:
    """Settings of one section, read by attribute (``cfg.poll.timeout``)."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Config:
    path: Path | None
    store: Section
    poll: Section
    classifier: Section
    digest: Section
    smtp: Section
    feeds: tuple[Source, ...] = field(default_factory=tuple)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def outbox_path(self) -> Path:
        return self.resolve(self.digest.outbox)

    @property
    def sender(self) -> str:
        return self.digest.values["from"]

    def smtp_password(self) -> str | None:
        return os.environ.get(self.smtp.password_env) if self.smtp.password_env else None


def _section(name: str, raw: Any, where: str) -> Section:
    table = SETTINGS[name]
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    values = {}
    for key, value in raw.items():
        if key not in table:
            raise ConfigError(f"{where}: [{name}] {key}: unknown key "
                              f"(known: {', '.join(table)})")
        try:
            values[key] = table[key].parse(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: [{name}] {key}: {exc}") from None
    for key, setting in table.items():
        values.setdefault(key, setting.default)
    return Section(values)


def _feeds(raw: Any, where: str) -> tuple[Source, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: feeds must be an array of tables ([[feeds]])")
    sources, names, urls = [], set(), set()
    for i, item in enumerate(raw, 1):
        label = f"{where}: [[feeds]] #{i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{label}: must be a table")
        values = {}
        for key, value in item.items():
            if key not in FEED_SETTINGS:
                raise ConfigError(f"{label} {key}: unknown key (known: {', '.join(FEED_SETTINGS)})")
            try:
                values[key] = FEED_SETTINGS[key].parse(value)
            except ValueError as exc:
                raise ConfigError(f"{label} {key}: {exc}") from None
        for required in ("name", "url"):
            if not values.get(required):
                raise ConfigError(f"{label}: {required} is missing")
        label = f"{where}: [[feeds]] {values['name']!r}"
        if values["name"] in names:
            raise ConfigError(f"{label}: duplicate feed name")
        if values["url"] in urls:
            raise ConfigError(f"{label}: duplicate feed url {values['url']}")
        names.add(values["name"])
        urls.add(values["url"])
        sources.append(Source(name=values["name"], url=values["url"],
                              kind=values.get("kind", "feed"), interval=values.get("interval"),
                              lang=values.get("lang"), selector=values.get("selector")))
    return tuple(sources)


def from_dict(data: Mapping[str, Any], path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    where = str(path) if path else "config"
    known = set(SETTINGS) | {"feeds"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}: {key}: unknown section "
                              f"(known: {', '.join(sorted(known))})")
    return Config(
        path=path,
        feeds=_feeds(data.get("feeds"), where),
        **{name: _section(name, data.get(name), where) for name in SETTINGS},
    )


def find_path(explicit: str | os.PathLike | None = None) -> Path:
    """--config, else $MONITOR_CONFIG, else ./config.toml."""
    return Path(explicit or os.environ.get(ENV_VAR) or DEFAULT_PATH)


def load(path: str | os.PathLike | None = None) -> Config:
    """Read and validate a config file; ConfigError on anything wrong."""
    p = find_path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return from_dict(data, p.resolve())
