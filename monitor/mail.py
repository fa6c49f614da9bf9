"""Deliver a digest: over SMTP, or into an outbox folder when no host is set.

``build_message`` makes the MIME message (pure); ``send_smtp`` and
``write_outbox`` are the I/O; ``deliver`` picks one by ``SmtpSettings.host``.

Decisions worth knowing:

* TLS is verified. ``security="starttls"`` (the default) refuses to go on in
  clear text when the server offers no STARTTLS; ``"ssl"`` is implicit TLS
  (port 465); ``"none"`` is for loopback relays and tests, and sending a
  password over it logs a warning.
* Partial refusal: when the server refuses some recipients and accepts others,
  the message has been delivered to the others. ``send_smtp`` returns normally,
  ``Delivery.recipients`` lists only the accepted addresses,
  ``Delivery.refused`` the refused ones, and each refusal is logged as a
  warning with its SMTP code. Raising would make the caller resend the digest
  to people who already have it. Only when every recipient is refused is it a
  ``DeliveryError``.
* Every library error (smtplib, ssl, OSError) becomes a ``DeliveryError`` with
  a one-line message naming ``host:port`` and the SMTP code and reply when there
  was one. The password is never logged nor put in a message: it is masked in
  the ``repr`` of ``SmtpSettings`` and scrubbed from every error text.
* Addresses are ASCII ``local@domain`` with an optional display name, one per
  string, no line breaks; SMTPUTF8 addresses are refused.
"""

from __future__ import annotations

import contextlib
import email.policy
import logging
import math
import os
import secrets
import smtplib
import ssl
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import cast

from .digest import Digest, clean_header
from .errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")
_ERROR_MAX = 500
_HEADERS = HeaderRegistry()


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. An empty ``host`` means "use the outbox"."""

    host: str = ""
    port: int = 587
    security: str = "starttls"  # "starttls", "ssl" (implicit TLS) or "none"
    username: str = ""
    password: str | None = field(default=None, repr=False)  # read from the env by the caller
    timeout: float = 30.0  # seconds, for the connection and every reply
    # None: ssl.create_default_context(), which verifies certificates.
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ConfigError(
                f"smtp security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}"
            )
        if not 0 < self.port < 65536:
            raise ConfigError(f"smtp port must be between 1 and 65535, not {self.port}")
        if not (math.isfinite(self.timeout) and self.timeout > 0):
            raise ConfigError(
                f"smtp timeout must be a positive number of seconds, not {self.timeout}"
            )


@dataclass(frozen=True)
class Delivery:
    """Where a digest went."""

    transport: str  # "smtp" or "outbox"
    message_id: str
    recipients: tuple[str, ...]  # addresses that accepted it (smtp) or were addressed (outbox)
    path: Path | None  # the .eml file, for the outbox
    refused: tuple[str, ...] = ()  # smtp: recipients the server refused while accepting others


# -- building ---------------------------------------------------------------------------


def _has_control(value: str) -> bool:
    """True if ``value`` holds a line break or any other control character."""
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") for c in value)


def _one_address(value: str, role: str) -> Address:
    """Parse exactly one mailbox from ``value`` or raise DeliveryError."""
    shown = repr(value)[:120]
    if not isinstance(value, str) or not value.strip() or _has_control(value):
        raise DeliveryError(f"{role} address must be one address on one line, got {shown}")
    try:
        raw = _HEADERS("to", value)
        header = cast(AddressHeader, raw)
        addresses = header.addresses
        groups = header.groups
    except (HeaderParseError, IndexError, ValueError) as exc:
        raise DeliveryError(f"{role} address is not valid: {shown}") from exc
    if (
        len(addresses) != 1
        or len(groups) != 1
        or groups[0].display_name is not None
        or raw.defects
        or not addresses[0].username
        or not addresses[0].domain
        or not addresses[0].addr_spec.isascii()
    ):
        raise DeliveryError(f"{role} address must be one valid ASCII address, got {shown}")
    return addresses[0]


def _message_id(message_id: str | None, domain: str) -> str:
    if message_id is None:
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
        return make_msgid(domain=domain)
    cleaned = message_id.strip()
    if not cleaned or not cleaned.isascii() or _has_control(cleaned) or " " in cleaned:
        raise DeliveryError(f"message id must be one ASCII token, got {message_id!r:.120}")
    return cleaned if cleaned.startswith("<") else f"<{cleaned}>"


def build_message(
    digest: Digest,
    *,
    sender: str,
    to: Sequence[str],
    message_id: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """Make a multipart/alternative message (text, then HTML) for ``digest``.

    ``sender`` and each of ``to`` must hold exactly one address; anything else
    (a comma list, CR/LF, a group) is a DeliveryError. ``now`` (aware; default:
    the current UTC time) sets the Date header. The Message-ID is made on the
    sender's domain unless given.
    """
    from_addr = _one_address(sender, "sender")
    recipients: list[Address] = []
    for value in [to] if isinstance(to, str) else to:
        address = _one_address(value, "recipient")
        if address.addr_spec.lower() not in {r.addr_spec.lower() for r in recipients}:
            recipients.append(address)
    if not recipients:
        raise DeliveryError("a digest needs at least one recipient")
    when = now if now is not None else datetime.now(UTC)
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("now must be timezone-aware")

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Subject"] = clean_header(digest.subject)
    msg["From"] = from_addr
    msg["To"] = tuple(recipients)
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = _message_id(message_id, from_addr.domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(digest.text, subtype="plain", charset="utf-8")
    msg.add_alternative(digest.html, subtype="html", charset="utf-8")
    return msg


# -- sending ----------------------------------------------------------------------------


def _addresses(msg: EmailMessage, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in msg.get_all(name, []):
            try:
                header = cast(AddressHeader, _HEADERS(name.lower(), str(value)))
            except (HeaderParseError, IndexError, ValueError):
                continue
            found.extend(a.addr_spec for a in header.addresses if a.username and a.domain)
    return list(dict.fromkeys(found))


def _reply(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return clean_header(text, 200)


def _describe(exc: BaseException, where: str, settings: SmtpSettings) -> str:
    """One line saying what went wrong, in the words of the SMTP reply when there is one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{rcpt} ({code} {_reply(reply)})" for rcpt, (code, reply) in exc.recipients.items()
        )
        return f"SMTP {where} refused every recipient: {refused}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"SMTP {where} rejected the login for user {settings.username!r}: "
                f"{exc.smtp_code} {_reply(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return (f"SMTP {where} refused the sender {exc.sender}: "
                f"{exc.smtp_code} {_reply(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {where} answered {exc.smtp_code} {_reply(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        # smtplib turns a read timeout into "Connection unexpectedly closed".
        if isinstance(exc.__context__, TimeoutError):
            return f"SMTP {where} timed out after {settings.timeout:g} s"
        return f"SMTP {where} closed the connection: {exc}"
    if isinstance(exc, smtplib.SMTPException):  # e.g. no STARTTLS, no usable AUTH method
        return f"SMTP {where}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed for SMTP {where}: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with SMTP {where}: {exc.reason or exc}"
    if isinstance(exc, TimeoutError):
        return f"SMTP {where} timed out after {settings.timeout:g} s"
    if isinstance(exc, OSError):
        return f"cannot reach SMTP {where}: {exc.strerror or exc}"
    return f"SMTP {where}: {type(exc).__name__}: {exc}"


def _error(text: str, settings: SmtpSettings) -> DeliveryError:
    if settings.password:
        text = text.replace(settings.password, "********")
    return DeliveryError(clean_header(text, _ERROR_MAX))


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _transact(msg: EmailMessage, settings: SmtpSettings, where: str, sender: str,
              recipients: list[str]) -> dict[str, tuple[int, bytes]]:
    context = settings.ssl_context or ssl.create_default_context()
    client: smtplib.SMTP
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=context)  # raises when the server does not offer it
            client.ehlo()
        if settings.username:
            if settings.security == "none":
                log.warning("sending SMTP credentials to %s without TLS", where)
            try:
                client.login(settings.username, settings.password or "")
            except UnicodeError:
                # smtplib encodes credentials as ASCII; the exception would carry them.
                raise _error(f"SMTP {where}: the username and password must be ASCII",
                             settings) from None
        return client.send_message(msg, from_addr=sender, to_addrs=recipients)
    finally:
        _close(client)


def send_smtp(msg: EmailMessage, settings: SmtpSettings) -> Delivery:
    """Send ``msg`` through ``settings.host``; DeliveryError if nobody got it."""
    where = f"{settings.host}:{settings.port}"
    if not settings.host.strip():
        raise DeliveryError("no SMTP host configured")
    senders = _addresses(msg, "Sender") or _addresses(msg, "From")
    recipients = _addresses(msg, "To", "Cc", "Bcc")
    if not senders or not recipients:
        raise DeliveryError("the message needs a From address and at least one recipient")
    message_id = str(msg.get("Message-ID", ""))
    try:
        refused = _transact(msg, settings, where, senders[0], recipients)
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
        raise _error(_describe(exc, where, settings), settings) from exc

    for rcpt, (code, reply) in refused.items():
        log.warning("SMTP %s refused recipient %s of %s: %s %s",
                    where, rcpt, message_id, code, _reply(reply))
    accepted = tuple(r for r in recipients if r not in refused)
    log.info("sent digest %s via SMTP %s to %d recipient(s)", message_id, where, len(accepted))
    return Delivery(transport="smtp", message_id=message_id, recipients=accepted, path=None,
                    refused=tuple(r for r in recipients if r in refused))


# -- the outbox -------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not possible everywhere (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_outbox(msg: EmailMessage, outbox: Path) -> Delivery:
    """Write ``msg`` to ``outbox/<UTC timestamp>-<short id>.eml`` atomically.

    The bytes go to a hidden temporary file in the same folder, are fsynced and
    then renamed into place, so a reader never sees half a message. The file is
    exactly what SMTP would carry (CRLF line ends).
    """
    outbox = Path(outbox)
    message_id = str(msg.get("Message-ID", ""))
    data = msg.as_bytes(policy=email.policy.SMTP)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}.eml"
    target = outbox / name
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".eml.tmp", dir=outbox)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(outbox)
    except OSError as exc:
        raise DeliveryError(clean_header(
            f"cannot write the digest to the outbox {outbox}: {exc.strerror or exc}", _ERROR_MAX
        )) from exc
    log.info("wrote digest %s to %s", message_id, target)
    return Delivery(transport="outbox", message_id=message_id,
                    recipients=tuple(_addresses(msg, "To", "Cc", "Bcc")), path=target)


def deliver(msg: EmailMessage, settings: SmtpSettings, outbox: Path) -> Delivery:
    """Send over SMTP when ``settings.host`` is set, else write to ``outbox``."""
    if settings.host.strip():
        return send_smtp(msg, settings)
    return write_outbox(msg, outbox)
