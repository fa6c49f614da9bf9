"""Digest delivery when the mail server misbehaves: real aiosmtpd on 127.0.0.1, real SQLite.

Every scenario checks the promise of ``monitor.dispatch``: an agreement is marked
digested only after a server accepted the message; until then it stays
undigested and goes out in the next digest that succeeds; no agreement is ever
in two delivered digests, except one redelivery with the same Message-ID after
the process died between the server's acceptance and the store's commit. The
failure is one clear DeliveryError (one log line when the daemon sends), and
the password appears nowhere.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.config import Config, from_dict
from monitor.dispatch import send_digest, smtp_settings
from monitor.errors import DeliveryError
from monitor.store import Store
from monitor.types import Agreement

from .conftest import ensure_dead, free_port

USER = "digest"
PASSWORD = "Pa55-w0rd-N0t-In-Logs"  # what the server expects
WRONG = "Wr0ng-Secret-Never-Logged"  # what the 535 scenario sends
READERS = ["first@example.org", "second@example.org"]
T0 = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)

AUTH_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


# -- a server that fails on demand ------------------------------------------------------


class FaultHandler:
    """Records what it accepts; ``fault`` says how the next transactions fail.

    ``None`` accepts everything. The others answer as a real server would:
    ``"421-mail"`` (MAIL FROM: 421, closing), ``"451-rcpt"`` (every RCPT: 451),
    ``"451-data"`` (after the message: 451), ``"550-second"`` (the second reader:
    550), ``"drop-rcpt"`` (connection closed after RCPT), ``"drop-data"`` (the
    message is received, then the connection closed with no reply) and
    ``"slow-data"`` (the 250 after DATA waits for ``release``).
    """

    def __init__(self) -> None:
        self.fault: str | None = None
        self.envelopes: list[Any] = []
        self.release = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.fault == "421-mail":  # smtplib hangs up on a 421, as it should
            return "421 4.3.2 mx.test shutting down, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.fault == "451-rcpt":
            return "451 4.7.1 greylisted, try again later"
        if self.fault == "550-second" and address == READERS[1]:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        if self.fault == "drop-rcpt" and len(envelope.rcpt_tos) == 2:
            server.transport.close()
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.fault == "451-data":
            return "451 4.3.0 queue full, try later"
        self.envelopes.append(envelope)
        if self.fault == "drop-data":
            server.transport.abort()  # the message arrived; the reply never leaves
            return "250 OK"
        if self.fault == "slow-data":
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        return [message(e)["Message-ID"] for e in self.envelopes]


def message(envelope) -> email.message.EmailMessage:
    raw = envelope.original_content or envelope.content
    return email.message_from_bytes(raw, policy=email.policy.default)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535




@pytest.fixture
def server(request):
    """Start a fault server on 127.0.0.1; stopped at teardown."""
    def start(**options: Any) -> tuple[FaultHandler, int]:
        handler = FaultHandler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                server_hostname="mx.test", **options)
        controller.start()

        def stop() -> None:
            handler.release.set()
            controller.stop()
        request.addfinalizer(stop)
        return handler, port
    return start


class Greeter421:
    """A server whose greeting is 421 (too busy) and that then hangs up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                self.connections += 1
                conn.sendall(b"421 4.3.2 mx.test too busy, try later\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


# -- the store and config ---------------------------------------------------------------


def make_cfg(tmp_path: Path, port: int, **smtp: Any) -> Config:
    return from_dict({
        "store": {"path": str(tmp_path / "faults.db")},
        "digest": {"to": READERS, "from": "monitor@example.org",
                   "outbox": str(tmp_path / "outbox"), "timezone": "Europe/Berlin"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "timeout": "5s",
                 "password_env": "MONITOR_TEST_SMTP_PASSWORD", **smtp},
    })


PARTIES = [("Hebei", ("Alibaba",)), ("Guizhou", ("Huawei",)), ("Yunnan", ("Tencent",)),
           ("Chongqing", ("Alibaba", "Tencent")), ("Henan", ("JD.com",)),
           ("Jiangsu", ("Baidu",))]


def add_agreements(store: Store, n: int, now: datetime, start: int = 0) -> list[int]:
    """Store ``n`` distinct agreements, each reported by its own article."""
    ids = []
    with store.transaction():
        for i in range(start, start + n):
            province, companies = PARTIES[i % len(PARTIES)]
            article = store.add_article({
                "url": f"https://news.example.org/{i}", "title": f"{province} signs {i}",
                "fetched_at": now.isoformat(), "published_at": now.date().isoformat(),
                "text": f"{province} and {', '.join(companies)} signed agreement {i}."})
            agreement = Agreement(
                province=province, level="province", government=f"{province} government",
                companies=companies, kind="strategic_cooperation",
                signed_on=date(2026, 1, 1) + timedelta(days=30 * i), score=0.9,
                evidence=f"{province} signed with {companies[0]} (agreement {i}).",
                rules=("test",))
            agreement_id, new = store.add_agreement(agreement, article, now)
            assert new
            ids.append(agreement_id)
    return ids


def undigested(store: Store) -> set[int]:
    return set(store.undigested_ids())


def delivered_ids(store: Store, handler: FaultHandler) -> list[tuple[str, list[int]]]:
    """(Message-ID, agreement ids) of every message the server received."""
    by_mid = {r["message_id"]: json.loads(r["agreement_ids"])
              for r in store.db["digests"].rows}
    return [(mid, by_mid[mid]) for mid in handler.message_ids()]


def assert_never_twice(store: Store, handler: FaultHandler, max_redelivered: int = 0) -> None:
    """No agreement in two delivered digests; a Message-ID twice at most ``max_redelivered``."""
    delivered = delivered_ids(store, handler)
    redelivered = [mid for mid, n in Counter(mid for mid, _ in delivered).items() if n > 1]
    assert len(redelivered) <= max_redelivered, delivered
    assert all(n <= 2 for n in Counter(mid for mid, _ in delivered).values()), delivered
    first_seen: dict[int, str] = {}
    for mid, ids in delivered:
        for agreement_id in ids:
            assert first_seen.setdefault(agreement_id, mid) == mid, (
                f"agreement {agreement_id} is in two digests: {first_seen[agreement_id]}, {mid}")
    # and what the store says was digested is what the server has
    for row in store.db["digests"].rows_where("sent_at IS NOT NULL"):
        ids = json.loads(row["agreement_ids"])
        digested = {r[0] for r in store.db.execute(
            "SELECT id FROM agreements WHERE digest_id = ?", [row["id"]])}
        assert digested == set(ids)
        assert row["message_id"] in handler.message_ids()


def leaks(text: str) -> bool:
    return PASSWORD in text or WRONG in text


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    seen = [caplog.text]
    e: BaseException | None = exc
    while e is not None:
        seen += [str(e), repr(e), repr(getattr(e, "args", ""))]
        e = e.__cause__ or e.__context__
    assert not any(leaks(t) for t in seen)


# -- in-process faults ------------------------------------------------------------------


FAULTS = {
    # fault: (words the error must contain)
    "421-mail": ("421",),
    "451-rcpt": ("451", "refused every recipient"),
    "451-data": ("451",),
    "drop-rcpt": ("closed the connection",),
    "drop-data": ("closed the connection",),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failed_send_keeps_agreements_for_the_next_digest(
        fault: str, server, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    handler, port = server()
    cfg = make_cfg(tmp_path, port)
    caplog.set_level(logging.DEBUG, logger="monitor")
    with Store(cfg.store_path) as store:
        first = set(add_agreements(store, 3, T0))
        handler.fault = fault
        with pytest.raises(DeliveryError) as info:
            send_digest(cfg, store, T0)
        text = str(info.value)
        assert f"127.0.0.1:{port}" in text and "\n" not in text
        for word in FAULTS[fault]:
            assert word in text, text
        assert undigested(store) == first
        pending = store.pending_digest()
        assert pending is not None and set(json.loads(pending["agreement_ids"])) == first
        # send_digest raises and leaves the logging to its caller: no error logged twice
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert_no_secret(info.value, caplog)
        received_in_fault = len(handler.envelopes)
        assert received_in_fault == (1 if fault == "drop-data" else 0)

        # more news arrives; the server recovers
        later = set(add_agreements(store, 2, T0 + timedelta(hours=5), start=3))
        handler.fault = None
        day2 = T0 + timedelta(days=1)
        outcome = send_digest(cfg, store, day2)
        assert outcome.resent and set(outcome.digest.agreement_ids) == first
        assert outcome.delivery.message_id == pending["message_id"]
        assert undigested(store) == later
        outcome2 = send_digest(cfg, store, day2)
        assert not outcome2.resent and set(outcome2.digest.agreement_ids) == later
        assert undigested(store) == set()
        assert send_digest(cfg, store, day2).digest is None
        # drop-data: the server may have kept the first copy: one redelivery, same Message-ID
        assert_never_twice(store, handler, max_redelivered=1 if fault == "drop-data" else 0)
        assert len(handler.envelopes) == received_in_fault + 2
        for env in handler.envelopes:
            assert sorted(env.rcpt_tos) == sorted(READERS)


def test_connection_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nobody listens
    cfg = make_cfg(tmp_path, port)
    with Store(cfg.store_path) as store:
        ids = set(add_agreements(store, 2, T0))
        with pytest.raises(DeliveryError, match=rf"cannot reach SMTP 127\.0\.0\.1:{port}"):
            send_digest(cfg, store, T0)
        assert undigested(store) == ids
        outbox = send_digest(cfg, store, T0, smtp=smtp_settings(
            make_cfg(tmp_path, port, host="")))  # the same digest, written to the outbox
        assert outbox.resent and outbox.delivery.transport == "outbox"
        assert undigested(store) == set()


def test_421_greeting(tmp_path: Path) -> None:
    greeter = Greeter421()
    try:
        cfg = make_cfg(tmp_path, greeter.port)
        with Store(cfg.store_path) as store:
            ids = set(add_agreements(store, 2, T0))
            with pytest.raises(DeliveryError, match="421") as info:
                send_digest(cfg, store, T0)
            assert f"127.0.0.1:{greeter.port}" in str(info.value)
            assert greeter.connections == 1
            assert undigested(store) == ids
    finally:
        greeter.close()


@AUTH_WITHOUT_TLS
def test_535_authentication_failure_never_shows_the_password(
        server, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = server(authenticator=authenticator, auth_require_tls=False,
                           auth_required=True)
    cfg = make_cfg(tmp_path, port, username=USER)
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", WRONG)
    with Store(cfg.store_path) as store:
        ids = set(add_agreements(store, 2, T0))
        with pytest.raises(DeliveryError, match="535") as info:
            send_digest(cfg, store, T0)
        assert USER in str(info.value)
        assert_no_secret(info.value, caplog)
        assert undigested(store) == ids and handler.envelopes == []
        monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", PASSWORD)  # the operator fixes it
        outcome = send_digest(cfg, store, T0 + timedelta(hours=1))
        assert outcome.resent and undigested(store) == set()
        assert_no_secret(info.value, caplog)
        assert_never_twice(store, handler)


def test_550_for_one_of_two_readers_is_delivered_to_the_other(
        server, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    handler, port = server()
    handler.fault = "550-second"
    cfg = make_cfg(tmp_path, port)
    caplog.set_level(logging.INFO, logger="monitor")
    with Store(cfg.store_path) as store:
        add_agreements(store, 2, T0)
        outcome = send_digest(cfg, store, T0)
        # delivered to the first reader: resending would give them a second copy
        assert outcome.delivery.recipients == (READERS[0],)
        assert outcome.delivery.refused == (READERS[1],)
        assert undigested(store) == set()
        assert [e.rcpt_tos for e in handler.envelopes] == [[READERS[0]]]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and READERS[1] in warnings[0] and "550" in warnings[0]
        row = store.db["digests"].get(outcome.digest_id)
        assert row["sent_at"] and row["recipients"] == READERS[0]  # who actually has it
        assert send_digest(cfg, store, T0).digest is None
        assert_never_twice(store, handler)


def test_every_fault_in_a_row_then_one_digest(server, tmp_path: Path) -> None:
    """A server that fails in every way on consecutive days: still one delivery, all in it."""
    handler, port = server()
    cfg = make_cfg(tmp_path, port)
    with Store(cfg.store_path) as store:
        ids = set(add_agreements(store, 4, T0))
        now = T0
        for fault in ("421-mail", "451-rcpt", "drop-rcpt", "451-data"):
            handler.fault = fault
            with pytest.raises(DeliveryError):
                send_digest(cfg, store, now)
            now += timedelta(days=1)
            assert undigested(store) == ids
        assert store.count("digests") == 1  # the same pending digest every time
        handler.fault = None
        outcome = send_digest(cfg, store, now)
        assert set(outcome.digest.agreement_ids) == ids and undigested(store) == set()
        assert len(handler.envelopes) == 1
        assert_never_twice(store, handler)


def test_two_senders_at_once_never_send_an_agreement_twice(server, tmp_path: Path) -> None:
    """The daemon's digest and a `monitor digest` by hand, both at the same time."""
    handler, port = server()
    handler.fault = "slow-data"
    cfg = make_cfg(tmp_path, port)
    with Store(cfg.store_path) as store:
        ids = set(add_agreements(store, 3, T0))
    results: list[Any] = []

    def send() -> None:
        with Store(cfg.store_path) as own:
            try:
                results.append(send_digest(cfg, own, T0))
            except Exception as exc:  # noqa: BLE001 - reported below
                results.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while not handler.envelopes and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let the second sender reach the server too, if it can
    handler.release.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert not [r for r in results if isinstance(r, Exception)], results
    with Store(cfg.store_path) as store:
        assert undigested(store) == set()
        assert_never_twice(store, handler)
        sent = [r for r in results if r.digest is not None]
        assert len(sent) == 1 and set(sent[0].digest.agreement_ids) == ids


# -- killed between the server's acceptance and the commit -------------------------------


def write_config(path: Path, tmp_path: Path, port: int) -> None:
    path.write_text("\n".join([
        "[store]", f'path = "{tmp_path / "faults.db"}"',
        "[digest]", f"to = {json.dumps(READERS)}", 'from = "monitor@example.org"',
        f'outbox = "{tmp_path / "outbox"}"',
        "[smtp]", 'host = "127.0.0.1"', f"port = {port}", 'security = "none"',
        'timeout = "5s"', "",
    ]), encoding="utf-8")


def run_digest(cfg_path: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "--config", str(cfg_path), "digest"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **env})


@pytest.mark.slow
def test_killed_after_acceptance_resends_once_with_the_same_message_id(
        server, tmp_path: Path) -> None:
    handler, port = server()
    cfg_path = tmp_path / "config.toml"
    write_config(cfg_path, tmp_path, port)
    with Store(tmp_path / "faults.db") as store:
        ids = set(add_agreements(store, 3, T0))

    proc = run_digest(cfg_path, MONITOR_TEST_PAUSE_AFTER_DELIVERY="30")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("test hook" in line for line in lines) and time.monotonic() < deadline \
                and proc.poll() is None:
            time.sleep(0.05)
        assert any("test hook" in line for line in lines), "".join(lines)
        assert len(handler.envelopes) == 1  # the server has it ...
        proc.send_signal(signal.SIGKILL)  # ... and the process dies before the commit
        proc.wait(10)
    finally:
        ensure_dead(proc)
    first_mid = handler.message_ids()[0]
    with Store(tmp_path / "faults.db") as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pending = store.pending_digest()
        assert pending and pending["message_id"] == first_mid
        assert undigested(store) == ids

    again = subprocess.run(proc.args, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "resending digest" in again.stderr
    assert handler.message_ids() == [first_mid, first_mid]  # one redelivery, same Message-ID
    # and the very same message: same Date, same parts (the store kept what was sent)
    first, second = (e.content for e in handler.envelopes[:2])
    assert first.replace(b"\r\n", b"\n") == second.replace(b"\r\n", b"\n")
    with Store(tmp_path / "faults.db") as store:
        assert undigested(store) == set() and store.pending_digest() is None
        later = set(add_agreements(store, 2, T0 + timedelta(days=1), start=3))
    third = subprocess.run(proc.args, capture_output=True, text=True, timeout=60)
    assert third.returncode == 0, third.stderr
    assert len(handler.envelopes) == 3 and handler.message_ids()[2] != first_mid
    with Store(tmp_path / "faults.db") as store:
        assert_never_twice(store, handler, max_redelivered=1)
        assert set(delivered_ids(store, handler)[2][1]) == later


# -- SIGTERM while the daemon sends the digest ------------------------------------------


def start_daemon(tmp_path: Path, port: int, smtp_timeout: str) -> tuple[subprocess.Popen,
                                                                         list[str]]:
    cfg_path = tmp_path / "daemon.toml"
    write_config(cfg_path, tmp_path, port)
    text = cfg_path.read_text(encoding="utf-8").replace('timeout = "5s"',
                                                        f'timeout = "{smtp_timeout}"')
    cfg_path.write_text(text, encoding="utf-8")
    with Store(tmp_path / "faults.db") as store:
        add_agreements(store, 3, datetime.now(UTC) - timedelta(days=2))
        # polled two days ago and never sent: the daemon's first check finds a digest due
        store.record_poll({"started_at": (datetime.now(UTC) - timedelta(days=2)).isoformat()})
    proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "--config", str(cfg_path),
                             "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()
    return proc, lines


def wait_until(condition, timeout: float, proc: subprocess.Popen, lines: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert condition(), "".join(lines)


@pytest.mark.slow
def test_sigterm_mid_digest_finishes_the_send_and_exits_0(server, tmp_path: Path) -> None:
    handler, port = server()
    handler.fault = "slow-data"  # the server holds its 250 until released
    proc, lines = start_daemon(tmp_path, port, smtp_timeout="20s")
    try:
        wait_until(lambda: handler.envelopes, 30, proc, lines)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert proc.poll() is None  # still finishing its send
        handler.release.set()
        proc.wait(20)
    finally:
        ensure_dead(proc)
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert "stopped" in output and "Traceback" not in output
    with Store(tmp_path / "faults.db") as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.pending_digest() is None and undigested(store) == set()
        assert_never_twice(store, handler)


@pytest.mark.slow
def test_sigterm_mid_digest_that_then_fails_leaves_it_pending(server, tmp_path: Path) -> None:
    handler, port = server()
    handler.fault = "slow-data"  # and never answers within the SMTP timeout
    proc, lines = start_daemon(tmp_path, port, smtp_timeout="2s")
    try:
        wait_until(lambda: handler.envelopes, 30, proc, lines)
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    finally:
        ensure_dead(proc)
        handler.release.set()
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert sum("digest not sent" in line for line in lines) == 1, output
    assert "timed out" in output and "Traceback" not in output
    with Store(tmp_path / "faults.db") as store:
        pending = store.pending_digest()
        assert pending is not None and len(undigested(store)) == 3
    handler.fault = None
    again = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "--config", str(tmp_path / "daemon.toml"),
         "digest"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    # the server kept the unacknowledged copy: one redelivery, with the same Message-ID
    assert handler.message_ids() == [pending["message_id"]] * 2
    with Store(tmp_path / "faults.db") as store:
        assert undigested(store) == set()
        assert_never_twice(store, handler, max_redelivered=1)


# -- the daemon's digest job: one log line per failure, and it carries on ---------------


@AUTH_WITHOUT_TLS
@pytest.mark.parametrize("fault", ["421-mail", "451-rcpt", "drop-rcpt", "drop-data", "535"])
def test_daemon_digest_job_logs_a_failure_once_and_carries_on(
        fault: str, server, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor.scheduler import Daemon

    handler, port = server(authenticator=authenticator, auth_require_tls=False)
    cfg = make_cfg(tmp_path, port, username=USER)
    monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", WRONG if fault == "535" else PASSWORD)
    with Store(cfg.store_path) as store:
        ids = set(add_agreements(store, 2, T0))
    handler.fault = None if fault == "535" else fault
    daemon = Daemon(cfg, clock=lambda: T0)
    caplog.set_level(logging.DEBUG)
    assert daemon.digest_job() is False  # it returns; nothing is raised
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    text = failures[0].getMessage()
    assert text.startswith("digest not sent: ") and f"127.0.0.1:{port}" in text
    assert "agreements stay for the next digest" in text
    assert failures[0].exc_info is None  # one line, no traceback
    assert not leaks(caplog.text)
    with Store(cfg.store_path) as store:
        assert undigested(store) == ids
    # repaired: the next digest job sends them, once
    handler.fault = None
    monkeypatch.setenv("MONITOR_TEST_SMTP_PASSWORD", PASSWORD)
    assert daemon.digest_job() is True
    assert not leaks(caplog.text)
    with Store(cfg.store_path) as store:
        assert undigested(store) == set()
        assert_never_twice(store, handler, max_redelivered=1 if fault == "drop-data" else 0)


def test_daemon_digest_job_sends_the_pending_digest_then_the_new_one(
        server, tmp_path: Path) -> None:
    from monitor.scheduler import Daemon

    handler, port = server()
    cfg = make_cfg(tmp_path, port)
    with Store(cfg.store_path) as store:
        first = set(add_agreements(store, 2, T0))
    daemon = Daemon(cfg, clock=lambda: T0)
    handler.fault = "451-rcpt"
    assert daemon.digest_job() is False
    with Store(cfg.store_path) as store:
        later = set(add_agreements(store, 2, T0 + timedelta(hours=3), start=2))
    handler.fault = None
    assert daemon.digest_job() is True  # yesterday's digest, then today's, in one go
    with Store(cfg.store_path) as store:
        assert undigested(store) == set()
        assert [set(ids) for _, ids in delivered_ids(store, handler)] == [first, later]
        assert_never_twice(store, handler)
