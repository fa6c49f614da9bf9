"""The network policy: schemes and private, loopback, link-local and reserved addresses."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.errors import BlockedError
from monitor.policy import NetworkPolicy, is_public, parse_host_address

POLICY = NetworkPolicy()

BLOCKED_URLS = [
    "file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/", "javascript:alert(1)",
    "http://127.0.0.1/", "http://localhost.:80/".replace("localhost.", "127.0.0.2"),
    "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/", "http://127.1/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/", "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://224.0.0.1/", "http://240.0.0.1/", "http://[fe80::1]/",
    "http://[fc00::1]/", "http://[::ffff:10.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
def test_blocked(url):
    with pytest.raises(BlockedError):
        POLICY.check_url(url)


@pytest.mark.parametrize("url", ["https://93.184.216.34/", "http://[2606:4700::1111]/",
                                 "https://example.org/feed"])
def test_public_allowed(url):
    POLICY.check_url(url)


def test_odd_ipv4_forms_are_loopback():
    for host in ("0x7f000001", "2130706433", "0177.0.0.1", "127.1"):
        assert parse_host_address(host) == ipaddress.IPv4Address("127.0.0.1")


def test_python_ipaddress_alone_is_not_enough():
    # the two cases the issue names: ipaddress says these are fine
    assert not ipaddress.ip_address("::ffff:127.0.0.1").is_loopback
    assert ipaddress.ip_address("64:ff9b::7f00:1").is_global
    assert not is_public(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not is_public(ipaddress.ip_address("64:ff9b::7f00:1"))


def test_allow_list_host_port_and_cidr():
    p = NetworkPolicy(allow=("127.0.0.1:8000", "10.0.0.0/8", "intranet.local"))
    p.check_url("http://127.0.0.1:8000/feed")
    with pytest.raises(BlockedError):
        p.check_url("http://127.0.0.1:8001/feed")  # another service on loopback
    p.check_address(ipaddress.ip_address("10.2.3.4"), 80)
    p.check_address(ipaddress.ip_address("192.168.0.5"), 80, host="intranet.local")
    with pytest.raises(BlockedError):
        p.check_address(ipaddress.ip_address("192.168.0.5"), 80, host="other.local")


def test_dns_answer_with_private_address_is_refused():
    # a name that resolves to a mix: the public one is used, never the private one
    assert POLICY.pick("example.org", 80, ["127.0.0.1", "93.184.216.34"]) == "93.184.216.34"
    with pytest.raises(BlockedError):
        POLICY.pick("rebind.example", 80, ["127.0.0.1", "::1"])


def test_allow_list_ipv6_forms():
    p = NetworkPolicy(allow=("[::1]:8080", "[fe80::2]"))
    p.check_url("http://[::1]:8080/feed")
    p.check_url("http://[fe80::2]:81/feed")
    with pytest.raises(BlockedError):
        p.check_url("http://[::1]:8081/feed")
    from monitor.config import from_dict

    cfg = from_dict({"poll": {"allow_private": ["[::1]:8080", "::1", "10.0.0.0/8", "h:80"]}})
    assert len(cfg.poll.allow_private) == 4
