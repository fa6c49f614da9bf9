"""One exception tree for the whole package.

    MonitorError
    ├── ConfigError      a config file or setting is wrong (exit status 2)
    ├── RulesError       a rules data file is malformed (names the file and key)
    ├── FetchError       a source or page could not be fetched
    │   ├── BlockedError     refused by the network policy (scheme, private address)
    │   ├── TooLargeError    the body passed the size cap
    │   └── ChallengeError   an anti-bot challenge page (HTTP 521 and its kin)
    ├── ParseError       fetched bytes are not a readable feed or index page
    ├── ExtractError     a page yielded no article text
    ├── StoreError       the SQLite store failed (locked, full, read-only, corrupt)
    │   └── LockedError      another daemon holds the store
    └── DeliveryError    the digest could not be sent or written

Edge modules raise these ``from`` the library error they translate. The pipeline
catches them per source and records them; anything else is a bug.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(MonitorError):
    """A configuration file or value is invalid."""


class RulesError(MonitorError):
    """A rules data file is invalid."""


class FetchError(MonitorError):
    """A URL could not be fetched.

    ``status`` is the HTTP status when there was one; ``retry_after`` is seconds
    the server asked us to wait, when it said so.
    """

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class BlockedError(FetchError):
    """The network policy refused the URL (scheme or address)."""


class TooLargeError(FetchError):
    """The response body passed the configured size cap."""


class ChallengeError(FetchError):
    """The server answered with an anti-bot challenge instead of content."""


class ParseError(MonitorError):
    """Fetched bytes could not be parsed as a feed or index page."""


class ExtractError(MonitorError):
    """No article text could be extracted from a page."""


class StoreError(MonitorError):
    """The store could not be read or written."""


class LockedError(StoreError):
    """Another process holds the daemon lock on this store."""


class DeliveryError(MonitorError):
    """The digest could not be delivered."""
