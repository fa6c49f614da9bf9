"""Mail delivery against real aiosmtpd servers on 127.0.0.1, and a real outbox folder."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.digest import Digest, render_digest
from monitor.errors import ConfigError, DeliveryError
from monitor.mail import (
    Delivery,
    SmtpSettings,
    build_message,
    deliver,
    send_smtp,
    write_outbox,
)
from monitor.types import Agreement, DigestItem, SourceLink

from .conftest import free_port

SENDER = "Monitor <monitor@example.org>"
READER = "reader@example.org"
USER = "digest"
PASSWORD = "Sup3r-Secret-Pa55word"
WRONG_PASSWORD = "Wr0ng-Secret-Value-9"
NOW = datetime(2024, 5, 2, 0, 30, tzinfo=UTC)


# -- servers ----------------------------------------------------------------------------




class Recorder:
    """Records what it receives; refuses any recipient whose local part starts with "refuse"."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refuse"):
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        raw = self.envelopes[0].original_content or self.envelopes[0].content
        return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


Start = Callable[..., tuple[Recorder, int]]


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Start:
    """Start an aiosmtpd server on 127.0.0.1 with extra SMTP options; stopped at teardown."""

    def start(**options: Any) -> tuple[Recorder, int]:
        handler = Recorder()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port,
                                server_hostname="mx.test", **options)
        controller.start()
        request.addfinalizer(controller.stop)
        return handler, port

    return start


@pytest.fixture
def silent_port(request: pytest.FixtureRequest) -> int:
    """A port that accepts TCP connections and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    request.addfinalizer(sock.close)
    return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made now with the openssl CLI.

    ``cryptography`` is not installed in this venv, so the CLI is the one
    generator these tests can actually exercise.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not available")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True, timeout=20,
    )
    return cert, key


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def trusting(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_files[0]))


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


# -- messages ---------------------------------------------------------------------------


def sample_digest() -> Digest:
    item = DigestItem(
        agreement_id=3,
        agreement=Agreement("Hebei", "province", "河北省人民政府", ("Alibaba",), "mou",
                            date(2024, 4, 28), 0.8, "河北省人民政府与阿里巴巴签署合作备忘录。"),
        first_seen_at=NOW,
        articles=(SourceLink("河北与阿里巴巴签约", "https://news.example.cn/1", "示例"),),
    )
    return render_digest([item], now=NOW)


def message(to: list[str] | None = None, digest: Digest | None = None) -> EmailMessage:
    return build_message(digest or sample_digest(), sender=SENDER, to=to or [READER],
                         message_id="<digest-1@example.org>", now=NOW)


def settings(port: int, **overrides: Any) -> SmtpSettings:
    fields: dict[str, Any] = dict(host="127.0.0.1", port=port, security="none", timeout=5.0)
    fields.update(overrides)
    return SmtpSettings(**fields)


def header_lines(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return head.split("\r\n")


# -- build_message ----------------------------------------------------------------------


def test_build_message_shape() -> None:
    digest = sample_digest()
    msg = build_message(digest, sender=SENDER, to=[READER, "Boss <boss@example.com>"], now=NOW)
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content() == digest.text
    assert parts[1].get_content() == digest.html
    assert msg["Subject"] == digest.subject
    assert msg["From"] == SENDER
    assert msg["To"] == f"{READER}, Boss <boss@example.com>"
    assert msg["Date"] == "Thu, 02 May 2024 00:30:00 +0000"
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", msg["Message-ID"])
    assert msg["Auto-Submitted"] == "auto-generated"


def test_build_message_message_id_and_single_recipient_string() -> None:
    msg = build_message(sample_digest(), sender=SENDER, to=READER, message_id="abc@example.org")
    assert msg["Message-ID"] == "<abc@example.org>"
    assert msg["To"] == READER
    with pytest.raises(DeliveryError):
        build_message(sample_digest(), sender=SENDER, to=[READER],
                      message_id="<a@b>\r\nBcc: x@evil.example")


@pytest.mark.parametrize("bad", [
    "", "   ", "not an address", "a@example.org, b@example.org", "a@example.org; b@example.org",
    "a@example.org\r\nBcc: x@evil.example", "a@example.org\nBcc: x@evil.example",
    "a@example.org\x00", "a@example.org\u2028", "group: a@example.org;", "@example.org",
    "用户@例子.中国",
])
def test_build_message_refuses_bad_addresses(bad: str) -> None:
    with pytest.raises(DeliveryError):
        build_message(sample_digest(), sender=bad, to=[READER])
    with pytest.raises(DeliveryError):
        build_message(sample_digest(), sender=SENDER, to=[READER, bad])


def test_build_message_needs_a_recipient() -> None:
    with pytest.raises(DeliveryError):
        build_message(sample_digest(), sender=SENDER, to=[])


def test_hostile_subject_is_one_header_line() -> None:
    hostile = Digest(subject="Digest\r\nBcc: x@evil.example\r\nX-Injected: 1" + "é" * 2000,
                     text="t", html="<p>h</p>", agreement_ids=())
    lines = header_lines(message(digest=hostile).as_bytes())
    starts = [line.split(":", 1)[0].lower() for line in lines if not line[:1].isspace()]
    assert starts.count("subject") == 1
    assert "bcc" not in starts and "x-injected" not in starts


def test_settings_validation_and_repr() -> None:
    s = SmtpSettings(host="smtp.example.org", username=USER, password=PASSWORD)
    assert PASSWORD not in repr(s)
    with pytest.raises(ConfigError):
        SmtpSettings(security="tls")
    with pytest.raises(ConfigError):
        SmtpSettings(port=0)
    with pytest.raises(ConfigError):
        SmtpSettings(timeout=float("inf"))


# -- SMTP -------------------------------------------------------------------------------


def test_send_plain_smtp(smtp_server: Start) -> None:
    handler, port = smtp_server()
    msg = message()
    delivery = send_smtp(msg, settings(port))
    assert delivery == Delivery("smtp", "<digest-1@example.org>", (READER,), None)
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "monitor@example.org"
    assert envelope.rcpt_tos == [READER]
    got = handler.received()
    assert got.get_content_type() == "multipart/alternative"
    parts = list(got.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    digest = sample_digest()
    assert parts[0].get_content().replace("\r\n", "\n") == digest.text
    assert parts[1].get_content().replace("\r\n", "\n") == digest.html
    assert got["Subject"] == digest.subject
    assert got["From"] == SENDER
    assert got["To"] == READER
    assert got["Message-ID"] == "<digest-1@example.org>"


def test_hostile_subject_over_smtp(smtp_server: Start) -> None:
    handler, port = smtp_server()
    hostile = Digest(subject="Digest\r\nBcc: x@evil.example\r\n\r\nbody" + "T" * 2000,
                     text="t", html="<p>h</p>", agreement_ids=())
    send_smtp(message(digest=hostile), settings(port))
    assert handler.envelopes[0].rcpt_tos == [READER]
    got = handler.received()
    assert len(got.get_all("Subject")) == 1
    assert got["Bcc"] is None
    assert got["Subject"].startswith("Digest Bcc: x@evil.example bodyTTT")
    assert len(got["Subject"]) == 200 and got["Subject"].endswith("…")


def test_one_recipient_refused_others_delivered(
        smtp_server: Start, caplog: pytest.LogCaptureFixture) -> None:
    handler, port = smtp_server()
    caplog.set_level(logging.WARNING, logger="monitor.mail")
    delivery = send_smtp(message([READER, "refuse-me@example.org"]), settings(port))
    assert delivery.recipients == (READER,)
    assert delivery.refused == ("refuse-me@example.org",)
    assert handler.envelopes[0].rcpt_tos == [READER]
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "refuse-me@example.org" in warning and "550" in warning


def test_every_recipient_refused(smtp_server: Start) -> None:
    handler, port = smtp_server()
    with pytest.raises(DeliveryError) as info:
        send_smtp(message(["refuse-a@example.org", "refuse-b@example.org"]), settings(port))
    text = str(info.value)
    assert f"127.0.0.1:{port}" in text and "550" in text and "refuse-b@example.org" in text
    assert "\n" not in text
    assert handler.envelopes == []


AUTH_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@AUTH_WITHOUT_TLS
def test_auth_success(smtp_server: Start) -> None:
    handler, port = smtp_server(authenticator=authenticator, auth_require_tls=False,
                                auth_required=True)
    delivery = send_smtp(message(), settings(port, username=USER, password=PASSWORD))
    assert delivery.recipients == (READER,)
    assert len(handler.envelopes) == 1


@AUTH_WITHOUT_TLS
def test_auth_wrong_password_never_leaks(
        smtp_server: Start, caplog: pytest.LogCaptureFixture) -> None:
    handler, port = smtp_server(authenticator=authenticator, auth_require_tls=False,
                                auth_required=True)
    caplog.set_level(logging.DEBUG)
    bad = settings(port, username=USER, password=WRONG_PASSWORD)
    with pytest.raises(DeliveryError) as info:
        send_smtp(message(), bad)
    err = info.value
    assert f"127.0.0.1:{port}" in str(err) and "535" in str(err)
    for text in (str(err), repr(err), str(err.__cause__), repr(err.__cause__), caplog.text,
                 repr(bad)):
        assert WRONG_PASSWORD not in text
    assert handler.envelopes == []


def test_auth_not_ascii_password_never_leaks(smtp_server: Start) -> None:
    _, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    secret = "pässwörd-ünïcode"
    with pytest.raises(DeliveryError) as info:
        send_smtp(message(), settings(port, username=USER, password=secret))
    assert secret not in str(info.value) and info.value.__cause__ is None
    assert "ASCII" in str(info.value)


def test_connection_refused_names_host_and_port() -> None:
    port = free_port()  # bound then closed: nobody listens
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{port}"):
        send_smtp(message(), settings(port))


def test_silent_server_times_out(silent_port: int) -> None:
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{silent_port} timed out"):
        send_smtp(message(), settings(silent_port, timeout=0.3))


def test_starttls_required_but_not_offered(smtp_server: Start) -> None:
    handler, port = smtp_server()
    with pytest.raises(DeliveryError, match="STARTTLS"):
        send_smtp(message(), settings(port, security="starttls"))
    assert handler.envelopes == []


def test_starttls_self_signed_refused_by_default(
        smtp_server: Start, server_tls: ssl.SSLContext) -> None:
    handler, port = smtp_server(tls_context=server_tls, require_starttls=True)
    with pytest.raises(DeliveryError, match=rf"certificate verification failed .*:{port}"):
        send_smtp(message(), settings(port, security="starttls"))
    assert handler.envelopes == []


def test_starttls_with_trusted_context(
        smtp_server: Start, server_tls: ssl.SSLContext, trusting: ssl.SSLContext) -> None:
    handler, port = smtp_server(tls_context=server_tls, require_starttls=True,
                                authenticator=authenticator)
    delivery = send_smtp(message(), settings(port, security="starttls", ssl_context=trusting,
                                             username=USER, password=PASSWORD))
    assert delivery.recipients == (READER,)
    assert handler.received()["Message-ID"] == "<digest-1@example.org>"


def test_implicit_tls(smtp_server: Start, server_tls: ssl.SSLContext,
                      trusting: ssl.SSLContext) -> None:
    handler, port = smtp_server(ssl_context=server_tls)
    with pytest.raises(DeliveryError, match="certificate verification failed"):
        send_smtp(message(), settings(port, security="ssl"))
    delivery = send_smtp(message(), settings(port, security="ssl", ssl_context=trusting))
    assert delivery.transport == "smtp" and len(handler.envelopes) == 1


# -- the outbox -------------------------------------------------------------------------


def test_write_outbox_is_atomic_and_parseable(tmp_path: Path) -> None:
    outbox = tmp_path / "var" / "outbox"  # does not exist yet
    msg = message([READER, "boss@example.com"])
    delivery = write_outbox(msg, outbox)
    files = sorted(p.name for p in outbox.iterdir())
    assert delivery.path is not None and delivery.path.parent == outbox
    assert files == [delivery.path.name]
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}\.eml", files[0])
    assert delivery.transport == "outbox"
    assert delivery.recipients == (READER, "boss@example.com")
    assert delivery.message_id == "<digest-1@example.org>"
    raw = (outbox / files[0]).read_bytes()
    assert raw == msg.as_bytes(policy=email.policy.SMTP)
    got = email.message_from_bytes(raw, policy=email.policy.default)
    assert got["Subject"] == msg["Subject"] and got["Message-ID"] == msg["Message-ID"]
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]

    second = write_outbox(msg, outbox)
    assert second.path != delivery.path
    assert len(list(outbox.iterdir())) == 2  # no temporary files left behind


def test_write_outbox_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(DeliveryError, match="not-a-dir"):
        write_outbox(message(), blocker / "outbox")


def test_deliver_picks_the_transport(smtp_server: Start, tmp_path: Path) -> None:
    handler, port = smtp_server()
    assert deliver(message(), settings(port), tmp_path).transport == "smtp"
    assert list(tmp_path.iterdir()) == []
    assert deliver(message(), SmtpSettings(), tmp_path).transport == "outbox"
    assert len(list(tmp_path.iterdir())) == 1 and len(handler.envelopes) == 1


@pytest.fixture(autouse=True)
def _no_stray_output(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The mail module logs; it never prints."""
    yield
    out, _ = capsys.readouterr()
    assert out == ""
