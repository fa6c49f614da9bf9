"""The command line: the only module that reads argv and sets up logging.

Every error a user can cause ends as one line on stderr (``monitor: error: ...``)
with exit status 2 for usage and configuration errors and 1 for the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import Config, load
from .errors import ConfigError, LockedError, MonitorError, RulesError

log = logging.getLogger("monitor")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    logging.basicConfig(level=level, format=LOG_FORMAT, stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "trafilatura", "readability"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _fail(message: str, status: int) -> None:
    click.echo(f"monitor: error: {message}", err=True)
    sys.exit(status)


class _Group(click.Group):
    """Turns package errors into one line and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, RulesError, LockedError) as exc:
            _fail(str(exc), 2)
        except MonitorError as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _config(ctx: click.Context) -> Config:
    obj = ctx.find_root().obj
    if "config" not in obj:
        obj["config"] = load(obj["config_path"])
    return obj["config"]


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", default=None, metavar="PATH",
              help="Config file (default: $MONITOR_CONFIG, else ./config.toml).")
@click.option("-v", "--verbose", count=True, help="Log debug messages.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int, quiet: bool) -> None:
    """Watch news for agreements between Chinese governments and tech giants."""
    _setup_logging(verbose, quiet)
    ctx.obj = {"config_path": config_path}


# -- demo -----------------------------------------------------------------------------------

@main.command()
@click.option("--var", "var_dir", type=click.Path(file_okay=False), default="var",
              show_default=True, help="Folder for demo.db and outbox/.")
def demo(var_dir: str) -> None:
    """Run the whole pipeline once, offline, on the bundled sample newsroom."""
    from .demo.runner import run_demo

    result = run_demo(Path(var_dir))
    r = result.report
    click.echo(f"Polled {r.polled} sources of the sample newsroom: {r.new_articles} articles, "
               f"{r.new_agreements} agreements, {r.failed} failed, in {r.seconds:.1f}s.")
    _print_agreements(result.agreements)
    d = result.digest
    if d.digest and d.delivery and d.delivery.path:
        click.echo(f"\nDigest of {len(d.digest.agreement_ids)} agreement(s) written to "
                   f"{d.delivery.path}")
    click.echo(f"Store: {result.store_path}\nBrowse it: make serve   "
               f"(or: monitor serve --db {result.store_path})")


def _print_agreements(rows: list[dict]) -> None:
    if not rows:
        click.echo("No agreements found.")
        return
    header = ("province", "level", "companies", "kind", "signed_on", "score", "reports")
    table = [header] + [(
        r["province"], r["level"], ", ".join(json.loads(r["companies"])), r["kind"] or "",
        r["signed_on"] or "?", f"{r['score']:.2f}", str(r["reports"])) for r in rows]
    for line in _table(table):
        click.echo(line)


# -- poll / run -----------------------------------------------------------------------------

@main.command()
@click.option("--due", is_flag=True, help="Poll only the sources whose time has come.")
@click.pass_context
def poll(ctx: click.Context, due: bool) -> None:
    """Poll the sources once, store what is new, and exit.

    Exit status: 0 when the cycle ran, 1 when every source failed, 2 on a
    usage or configuration error.
    """
    from .pipeline import poll_once
    from .store import Store

    cfg = _config(ctx)
    progress = None
    if sys.stderr.isatty():
        def progress(done: int, total: int, name: str) -> None:
            click.echo(f"\r[{done}/{total}] {name[:50]:<50}", err=True,
                       nl=done == total)
    with Store(cfg.store_path, busy_timeout=cfg.store.busy_timeout) as store:
        report = poll_once(cfg, store, due_only=due, progress=progress)
    click.echo(f"{report.polled} sources polled, {report.failed} failed, "
               f"{report.not_modified} not modified, {report.new_articles} new articles, "
               f"{report.new_agreements} new agreements, {report.seconds:.1f}s")
    if report.polled and report.failed == report.polled:
        sys.exit(1)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll on schedule and send the daily digest (SIGTERM stops it)."""
    from .scheduler import Daemon

    sys.exit(Daemon(_config(ctx)).run())


# -- digest ---------------------------------------------------------------------------------

@main.command()
@click.option("--dry-run", is_flag=True, help="Print the digest's text; send and mark nothing.")
@click.option("--preview", type=click.Path(dir_okay=False), default=None,
              help="Write the digest's HTML to this file; send and mark nothing.")
@click.option("--force", is_flag=True, help="Send even when nothing is new.")
@click.pass_context
def digest(ctx: click.Context, dry_run: bool, preview: str | None, force: bool) -> None:
    """Send the digest of agreements not yet digested (SMTP, or the outbox)."""
    from .dispatch import prepare, send_digest
    from .store import Store

    cfg = _config(ctx)
    now = datetime.now(UTC)
    with Store(cfg.store_path, busy_timeout=cfg.store.busy_timeout) as store:
        if dry_run or preview:
            d = prepare(cfg, store, now)
            if preview:
                try:
                    Path(preview).write_text(d.html, encoding="utf-8")
                except OSError as exc:
                    raise ConfigError(f"{preview}: cannot write the preview: "
                                      f"{exc.strerror or exc}") from None
                click.echo(f"HTML preview of {len(d.agreement_ids)} agreement(s) written to "
                           f"{preview}")
            if dry_run:
                click.echo(f"Subject: {d.subject}\n")
                click.echo(d.text)
            return
        outcome = send_digest(cfg, store, now, force=force)
    if outcome.digest is None or outcome.delivery is None:
        click.echo("Nothing new; no digest sent.")
    else:
        where = outcome.delivery.path or ", ".join(outcome.delivery.recipients)
        click.echo(f"Digest of {len(outcome.digest.agreement_ids)} agreement(s) sent by "
                   f"{outcome.delivery.transport} to {where}")


# -- classify -------------------------------------------------------------------------------

_LEADING_DATE = re.compile(r"^\s*(?:[A-Z][a-z]+day,\s*)?([A-Z][a-z]+ \d{1,2}, \d{4})")


def _guess_published(text: str) -> date | None:
    """A blog export often starts with its date line ("Monday, October 14, 2019")."""
    m = _LEADING_DATE.match(text)
    if m:
        try:
            return datetime.strptime(m.group(1), "%B %d, %Y").date()
        except ValueError:
            return None
    return None


def _rules(ctx: click.Context):
    from .classify import load_rules

    obj = ctx.find_root().obj
    if "rules" not in obj:
        files: list[Path] = []
        try:
            cfg = _config(ctx)
            files = [cfg.resolve(p) for p in cfg.classifier.rules]
        except ConfigError as exc:
            if obj.get("config_path") or "not found" not in str(exc):
                raise
        obj["rules"] = load_rules(files)
    return obj["rules"]


def _threshold(ctx: click.Context) -> float:
    try:
        return _config(ctx).classifier.threshold
    except ConfigError:
        return 0.5


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--jsonl", is_flag=True, help="Read JSON lines on stdin, write one result a line.")
@click.option("--explain", is_flag=True, help="Show every candidate and why it was kept or not.")
@click.option("--published", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Publication date of FILE (for relative dates).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language hint.")
@click.pass_context
def classify(ctx: click.Context, file: str | None, jsonl: bool, explain: bool,
             published: datetime | None, lang: str | None) -> None:
    """Find agreements in FILE (text or HTML), or in JSON lines on stdin (--jsonl)."""
    from . import extract
    from .classify import classify as run_classify
    from .classify import explain as run_explain
    from .types import Article

    rules = _rules(ctx)
    threshold = _threshold(ctx)
    if jsonl:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            click.echo(json.dumps(_classify_line(line, n, rules, threshold),
                                  ensure_ascii=False))
        return
    if not file:
        raise click.UsageError("give a FILE, or --jsonl to read stdin")
    body = Path(file).read_bytes()
    text = extract.decode(body)
    title = ""
    pub = published.date() if published else None
    if re.search(r"<(html|body|p|div|article)\b", text[:5000], re.I):
        page = extract.extract_page(body, None, None)
        title, text, pub, lang = page.title, page.text, pub or page.published, lang or page.lang
    else:
        pub = pub or _guess_published(text)
    article = Article(title=title, text=text, published=pub, url=None, lang=lang)
    if explain:
        for c in run_explain(article, rules, threshold):
            a = c.agreement
            mark = "ACCEPTED" if c.accepted else "rejected"
            click.echo(f"{mark}  {a.province} ({a.level}) + {', '.join(a.companies)}  "
                       f"score {a.score:.2f}  kind {a.kind}  signed {a.signed_on or '?'}")
            click.echo(f"  sentence: {c.sentence}")
            for reason in c.reasons:
                click.echo(f"  - {reason}")
            click.echo("")
        return
    found = run_classify(article, rules, threshold)
    click.echo(json.dumps({"id": Path(file).name, "match": bool(found),
                           "agreements": [a.to_dict() for a in found]},
                          ensure_ascii=False, indent=2))


def _classify_line(line: str, n: int, rules, threshold: float) -> dict:
    from .classify import classify as run_classify
    from .types import Article

    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": n, "error": f"not JSON: {exc.msg}"}
    if not isinstance(obj, dict):
        return {"id": None, "line": n, "error": "not a JSON object"}
    ident = obj.get("id")
    try:
        title, text = obj.get("title") or "", obj.get("text") or ""
        if not isinstance(title, str) or not isinstance(text, str):
            raise ValueError("title and text must be strings")
        pub = obj.get("published")
        pub_date = date.fromisoformat(pub[:10]) if isinstance(pub, str) and pub else None
        lang = obj.get("lang") if obj.get("lang") in ("en", "zh") else None
        url = obj.get("url") if isinstance(obj.get("url"), str) else None
    except (ValueError, TypeError) as exc:
        return {"id": ident, "line": n, "error": str(exc)}
    found = run_classify(Article(title=title, text=text, published=pub_date, url=url, lang=lang),
                         rules, threshold)
    return {"id": ident, "match": bool(found), "agreements": [a.to_dict() for a in found]}


# -- feeds ----------------------------------------------------------------------------------

@main.group(invoke_without_command=True, cls=click.Group)
@click.pass_context
def feeds(ctx: click.Context) -> None:
    """List each source with its health and next poll (subcommand: check)."""
    if ctx.invoked_subcommand is not None:
        return
    from .store import Store, parse_iso

    cfg = _config(ctx)
    now = datetime.now(UTC)
    with Store(cfg.store_path, busy_timeout=cfg.store.busy_timeout) as store:
        store.sync_feeds(cfg.feeds, now)
        rows = store.feed_rows()
    header = ("name", "kind", "state", "fails", "status", "items", "newest item",
              "next poll", "last error")
    table = [header]
    for r in rows:
        state = r["state"] or "new"
        newest = parse_iso(r["newest_item_at"])
        if state == "ok" and newest and (now - newest).total_seconds() > cfg.poll.stale_after:
            state = "stale"
        table.append((r["name"][:30], r["kind"], state, str(r["failures"] or 0),
                      str(r["last_status"] or ""), str(r["item_count"] or ""),
                      newest.strftime("%Y-%m-%d") if newest else "",
                      (r["next_poll_at"] or "")[:16].replace("T", " "),
                      _short_error(r["last_error"], r["url"], r["feed_url"])[:70]))
    for line in _table(table):
        click.echo(line)


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as aligned text lines, the first row a header underlined with dashes."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _short_error(error: str | None, *urls: str | None) -> str:
    """The error without the source's own URL in front (the row already names it)."""
    error = error or ""
    for url in urls:
        if url and error.startswith(f"{url}: "):
            return error[len(url) + 2:]
    return error


@feeds.command("check")
@click.argument("url")
@click.option("--kind", type=click.Choice(["feed", "page"]), default="feed", show_default=True)
@click.option("--selector", default=None, help="CSS selector of links (kind page).")
@click.option("--limit", default=10, show_default=True, help="Entries to fetch and classify.")
@click.pass_context
def feeds_check(ctx: click.Context, url: str, kind: str, selector: str | None,
                limit: int) -> None:
    """Fetch URL once and show what would be read and matched; store nothing."""
    from .feedcheck import check

    try:
        cfg = _config(ctx)
    except ConfigError as exc:
        if ctx.find_root().obj.get("config_path") or "not found" not in str(exc):
            raise
        from .config import from_dict
        cfg = from_dict({})
    result = asyncio.run(check(cfg, url, kind=kind, selector=selector, limit=limit,
                               rules=_rules(ctx)))
    click.echo(f"{result.url}: HTTP {result.status}, {len(result.entries)} entries"
               + (f" (feed found at {result.feed_url})" if result.feed_url else "")
               + (f", parser warning: {result.bozo}" if result.bozo else ""))
    for line in result.lines:
        click.echo(line)


# -- serve ----------------------------------------------------------------------------------

@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Store to browse (default: [store] path of the config).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, db_path: str | None) -> None:
    """Browse the store in Datasette, with the project's metadata and queries."""
    from .browse import datasette_command

    path = Path(db_path) if db_path else _config(ctx).store_path
    if not path.exists():
        raise ConfigError(f"{path}: no store there yet (run monitor poll or make demo first)")
    cmd = datasette_command(path, host=host, port=port)
    click.echo(f"Datasette on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # Become Datasette (no child left behind when a service manager stops us).
    os.execv(cmd[0], cmd)


if __name__ == "__main__":  # pragma: no cover
    main()
