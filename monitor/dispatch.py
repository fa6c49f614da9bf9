"""Sends the digest of new agreements: store -> digest -> mail -> store.

Nothing lost, nothing sent twice: a ``digests`` row (with its Message-ID and the
agreement ids it carries) is written before sending, and the agreements are
marked digested only after the server accepted the message or the .eml file was
fully written. If the process dies in between, the next run finds that pending
row and sends exactly the same message again, with the same Message-ID, before
anything new: at most one redelivery, which mail clients fold by Message-ID.

Only one process sends a store's digest at a time: ``send_digest`` holds an
exclusive lock on ``<store>.digest-lock`` from reading the pending row to
marking it sent. Without it, the daemon's digest and a ``monitor digest`` run
by hand could both find the same pending row (or the same undigested
agreements) and both deliver it.
"""

from __future__ import annotations

import email
import email.policy
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path

from .config import Config
from .digest import Digest, render_digest
from .errors import DeliveryError, StoreError
from .mail import Delivery, SmtpSettings, build_message, deliver
from .store import Store

log = logging.getLogger(__name__)

# Test hook (used by tests/test_email_faults.py): set to a number of seconds, it makes
# send_digest wait that long after the server accepted the message and before the commit
# that marks the agreements digested, so a test can kill the process in exactly that window.
# Nothing sets it outside the tests.
PAUSE_AFTER_DELIVERY_ENV = "MONITOR_TEST_PAUSE_AFTER_DELIVERY"
LOCK_WAIT_MIN = 60.0  # seconds to wait for another process's send, at least


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest | None  # None when there was nothing to send
    delivery: Delivery | None = None
    digest_id: int | None = None
    resent: bool = False  # a pending digest from an interrupted run was sent again


def smtp_settings(cfg: Config) -> SmtpSettings:
    s = cfg.smtp
    return SmtpSettings(host=s.host, port=s.port, security=s.security, username=s.username,
                        password=cfg.smtp_password(), timeout=s.timeout)


def prepare(cfg: Config, store: Store, now: datetime,
            agreement_ids: list[int] | None = None) -> Digest:
    """Render the digest of the given (default: all undigested) agreements."""
    ids = store.undigested_ids() if agreement_ids is None else agreement_ids
    return render_digest(store.digest_items(ids), now=now, tz=cfg.digest.timezone,
                         failing=store.failing_sources(),
                         subject_template=cfg.digest.subject)


def _domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "localhost"


@contextmanager
def _sending(store: Store, wait: float) -> Iterator[None]:
    """Hold the store's digest lock; DeliveryError if another sender keeps it past ``wait``."""
    if str(store.path) == ":memory:":
        yield
        return
    path = Path(f"{store.path}.digest-lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DeliveryError(f"another process has been sending this store's "
                                        f"digest for {wait:.0f}s ({path}); not sent") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # releases the lock


def _pause_after_delivery() -> None:
    value = os.environ.get(PAUSE_AFTER_DELIVERY_ENV)
    if not value:
        return
    seconds = min(float(value), 300.0)
    log.warning("test hook %s: pausing %.1fs after delivery, before the commit",
                PAUSE_AFTER_DELIVERY_ENV, seconds)
    time.sleep(seconds)


def send_digest(cfg: Config, store: Store, now: datetime, *,
                smtp: SmtpSettings | None = None, force: bool = False) -> DigestOutcome:
    """Send the pending digest if one was interrupted, else a digest of what is new.

    ``force`` sends even when nothing is new (as ``[digest] send_empty`` does).
    Raises DeliveryError when delivery fails; the agreements then stay undigested.
    Waits for another process that is sending this store's digest (a few SMTP
    timeouts at most), then DeliveryError.
    """
    smtp = smtp or smtp_settings(cfg)
    with _sending(store, max(LOCK_WAIT_MIN, 4 * smtp.timeout)):
        return _send(cfg, store, now, smtp, force)


def _send(cfg: Config, store: Store, now: datetime, smtp: SmtpSettings,
          force: bool) -> DigestOutcome:
    to = list(cfg.digest.to)
    pending = store.pending_digest()
    resent = pending is not None
    if pending:
        ids = json.loads(pending["agreement_ids"] or "[]")
        message_id, digest_id = pending["message_id"], pending["id"]
        if pending.get("message"):  # the very message an earlier run may have delivered
            msg = email.message_from_string(pending["message"], policy=email.policy.SMTP)
            digest = Digest(subject=pending["subject"] or "", text="", html="",
                            agreement_ids=tuple(ids))
        else:  # a row from before messages were kept: render it again, same Message-ID
            digest = prepare(cfg, store, now, ids)
            msg = build_message(digest, sender=cfg.sender, to=to or [cfg.sender],
                                message_id=message_id, now=now)
        log.info("resending digest %d (%s) that an earlier run did not confirm",
                 digest_id, message_id)
    else:
        ids = store.undigested_ids()
        if not ids and not (force or cfg.digest.send_empty):
            log.info("digest: nothing new; no message")
            return DigestOutcome(digest=None)
        digest = prepare(cfg, store, now, ids)
        message_id = make_msgid(domain=_domain(cfg.sender))
        msg = build_message(digest, sender=cfg.sender, to=to or [cfg.sender],
                            message_id=message_id, now=now)
        digest_id = store.create_digest(now=now, subject=digest.subject, message_id=message_id,
                                        recipients=to, agreement_ids=ids,
                                        message=msg.as_string())
    delivery = deliver(msg, smtp, cfg.outbox_path)
    _pause_after_delivery()
    # Record who has it: after a partial refusal, only the recipients that accepted it.
    store.mark_digest_sent(digest_id, now=now, transport=delivery.transport,
                           path=str(delivery.path) if delivery.path else None,
                           recipients=delivery.recipients)
    log.info("digest %d sent by %s: %d agreement(s), %s", digest_id, delivery.transport,
             len(digest.agreement_ids), message_id)
    return DigestOutcome(digest=digest, delivery=delivery, digest_id=digest_id, resent=resent)
