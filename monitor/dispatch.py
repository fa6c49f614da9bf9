"""Sends the digest of new agreements: store -> digest -> mail -> store.

Nothing lost, nothing sent twice: a ``digests`` row (with its Message-ID and the
agreement ids it carries) is written before sending, and the agreements are
marked digested only after the server accepted the message or the .eml file was
fully written. If the process dies in between, the next run finds that pending
row and sends exactly the same message again, with the same Message-ID, before
anything new: at most one redelivery, which mail clients fold by Message-ID.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid

from .config import Config
from .digest import Digest, render_digest
from .mail import Delivery, SmtpSettings, build_message, deliver
from .store import Store

log = logging.getLogger(__name__)


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


def send_digest(cfg: Config, store: Store, now: datetime, *,
                smtp: SmtpSettings | None = None, force: bool = False) -> DigestOutcome:
    """Send the pending digest if one was interrupted, else a digest of what is new.

    ``force`` sends even when nothing is new (as ``[digest] send_empty`` does).
    Raises DeliveryError when delivery fails; the agreements then stay undigested.
    """
    smtp = smtp or smtp_settings(cfg)
    to = list(cfg.digest.to)
    pending = store.pending_digest()
    resent = pending is not None
    if pending:
        ids = json.loads(pending["agreement_ids"] or "[]")
        digest = prepare(cfg, store, now, ids)
        message_id, digest_id = pending["message_id"], pending["id"]
        log.info("resending digest %d (%s) that an earlier run did not confirm",
                 digest_id, message_id)
    else:
        ids = store.undigested_ids()
        if not ids and not (force or cfg.digest.send_empty):
            log.info("digest: nothing new; no message")
            return DigestOutcome(digest=None)
        digest = prepare(cfg, store, now, ids)
        message_id = make_msgid(domain=_domain(cfg.sender))
        digest_id = store.create_digest(now=now, subject=digest.subject, message_id=message_id,
                                        recipients=to, agreement_ids=ids)
    msg = build_message(digest, sender=cfg.sender, to=to or [cfg.sender], message_id=message_id,
                        now=now)
    delivery = deliver(msg, smtp, cfg.outbox_path)
    store.mark_digest_sent(digest_id, now=now, transport=delivery.transport,
                           path=str(delivery.path) if delivery.path else None)
    log.info("digest %d sent by %s: %d agreement(s), %s", digest_id, delivery.transport,
             len(digest.agreement_ids), message_id)
    return DigestOutcome(digest=digest, delivery=delivery, digest_id=digest_id, resent=resent)
