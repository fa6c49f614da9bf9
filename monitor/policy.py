"""Which URLs and addresses the fetcher may reach (server-side request forgery guard).

Feed entries can point anywhere, so by default only http(s) URLs whose host
resolves to a public address are fetched. ``is_public`` unwraps the IPv6 forms
that carry an IPv4 address (mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``, Teredo) because ``ipaddress`` alone calls
``64:ff9b::7f00:1`` global. Hosts written as ``0x7f000001``, ``2130706433``,
``0177.0.0.1`` or ``127.1`` are read the way the C resolver reads them
(``socket.inet_aton``), so they are loopback here too.

``allow`` lists exceptions: "host", "host:port" or a CIDR.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import BlockedError, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, if it is of a form that does."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    packed = ip.packed
    if packed[:12] == b"\x00" * 12 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed[12:])
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return is_public(inner)
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or ip.is_link_local:
        return False
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return False
    return ip.is_global


def parse_host_address(host: str) -> IPAddress | None:
    """An IP literal in any form the resolver accepts, else None (a name)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:  # 127.1, 0x7f000001, 2130706433, 0177.0.0.1
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class NetworkPolicy:
    allow: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ("http", "https")

    @staticmethod
    def _entry(entry: str) -> tuple[str, int | None] | None:
        """An allow entry as (host, port or None); None for a CIDR. Forms: "host",
        "host:port", "1.2.3.4:port", "::1", "[::1]" and "[::1]:port"."""
        e = entry.lower().strip()
        if "/" in e:
            return None
        if e.startswith("["):
            host, _, rest = e[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
            return host, int(port) if port.isdigit() else None
        if e.count(":") == 1:
            host, port = e.split(":")
            return host, int(port) if port.isdigit() else None
        return e, None  # a name, an IPv4 address or a bare IPv6 address

    def _allowed_name(self, host: str, port: int | None) -> bool:
        host = host.lower().strip("[]")
        for entry in self.allow:
            parsed = self._entry(entry)
            if parsed is None:
                continue
            h, p = parsed
            if h == host and (p is None or p == port):
                return True
        return False

    def _allowed_ip(self, ip: IPAddress, port: int | None) -> bool:
        if self._allowed_name(str(ip), port):
            return True
        for entry in self.allow:
            try:
                net = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip.version == net.version and ip in net:
                return True
        return False

    def check_url(self, url: str) -> None:
        """Refuse a URL by its scheme or by a literal address in it (no DNS here)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise BlockedError(f"{url}: not a valid URL ({exc})") from None
        if parts.scheme.lower() not in self.schemes:
            raise BlockedError(f"{url}: scheme {parts.scheme or '(none)'!r} is not fetched")
        host = parts.hostname
        if not host:
            raise BlockedError(f"{url}: no host")
        port = port or (443 if parts.scheme.lower() == "https" else 80)
        ip = parse_host_address(host)
        if ip is not None:
            self.check_address(ip, port, host)

    def check_address(self, ip: IPAddress, port: int, host: str = "") -> None:
        if is_public(ip) or self._allowed_ip(ip, port) or (
                host and self._allowed_name(host, port)):
            return
        raise BlockedError(f"{host or ip}: address {ip} is private, loopback or reserved "
                           f"(allow it with [poll] allow_private)")

    async def resolve(self, host: str, port: int) -> str:
        """Resolve ``host`` and return the first address the policy allows."""
        ip = parse_host_address(host)
        if ip is not None:
            self.check_address(ip, port, host)
            return str(ip)
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(f"{host}: cannot resolve ({exc.strerror})") from None
        return self.pick(host, port, (str(info[4][0]) for info in infos))

    def pick(self, host: str, port: int, addresses: Iterable[str]) -> str:
        """The first allowed address of a DNS answer; BlockedError if none is."""
        refused = None
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            try:
                self.check_address(ip, port, host)
                return str(ip)
            except BlockedError as exc:
                refused = exc
        raise refused or BlockedError(f"{host}: no address")
