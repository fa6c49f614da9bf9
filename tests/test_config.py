"""Config loading: defaults, durations, and one clear error (exit 2) per bad file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import ConfigError, load, parse_duration

GOOD = """
[store]
path = "x.db"
[poll]
interval = "15m"
timeout = "1m30s"
allow_private = ["127.0.0.1:8000", "10.0.0.0/8", "intranet.local"]
[[feeds]]
name = "A"
url = "https://example.org/rss"
[[feeds]]
name = "B"
url = "https://example.org/news/"
kind = "page"
selector = "ul a"
interval = "6h"
lang = "zh"
"""


def test_durations():
    assert parse_duration("15m") == 900
    assert parse_duration("6h") == 21600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("250ms") == 0.25
    assert parse_duration(45) == 45
    for bad in ("", "15", "15x", "m", "-1s", True, [1]):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_good_config(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text(GOOD)
    cfg = load(p)
    assert cfg.poll.interval == 900 and cfg.poll.timeout == 90
    assert cfg.poll.per_host == 4  # default
    assert cfg.store_path == tmp_path / "x.db"  # relative to the config file
    assert [f.name for f in cfg.feeds] == ["A", "B"]
    assert cfg.feeds[1].interval == 21600 and cfg.feeds[1].selector == "ul a"
    assert cfg.digest.timezone == "Asia/Shanghai"
    assert cfg.sender == "monitor@localhost"


def test_shipped_config_loads_with_20_sources():
    cfg = load(Path(__file__).parent.parent / "config.toml")
    assert len(cfg.feeds) >= 20
    langs = {f.lang for f in cfg.feeds}
    kinds = {f.kind for f in cfg.feeds}
    assert langs == {"en", "zh"} and kinds == {"feed", "page"}


def test_env_var_names_the_config(tmp_path, monkeypatch):
    p = tmp_path / "c.toml"
    p.write_text(GOOD)
    monkeypatch.setenv("MONITOR_CONFIG", str(p))
    assert load().path == p.resolve()


BAD = {
    "unknown key": ("[poll]\nintervall = '5m'\n", "[poll] intervall: unknown key"),
    "unknown section": ("[pol]\ninterval = '5m'\n", "pol: unknown section"),
    "wrong type": ("[poll]\nconcurrency = 'many'\n", "[poll] concurrency: 'many' is not a whole"),
    "bad duration": ("[poll]\ntimeout = '20 parsecs'\n", "[poll] timeout: '20 parsecs' is not a duration"),
    "zero duration": ("[poll]\ninterval = '0s'\n", "[poll] interval: must be longer than zero"),
    "bad url": ("[[feeds]]\nname = 'x'\nurl = 'ftp://x.org/rss'\n", "url: 'ftp://x.org/rss' is not an http(s) URL"),
    "bad timezone": ("[digest]\ntimezone = 'Mars/Olympus'\n", "[digest] timezone: 'Mars/Olympus' is not a known timezone"),
    "bad time": ("[digest]\ntime = '25:00'\n", "[digest] time: '25:00' is not a time of day"),
    "bad kind": ("[[feeds]]\nname = 'x'\nurl = 'https://x.org/'\nkind = 'blog'\n", "kind: 'blog' is not one of feed, page"),
    "duplicate feed": ("[[feeds]]\nname = 'x'\nurl = 'https://x.org/a'\n[[feeds]]\nname = 'x'\nurl = 'https://x.org/b'\n", "duplicate feed name"),
    "duplicate url": ("[[feeds]]\nname = 'x'\nurl = 'https://x.org/a'\n[[feeds]]\nname = 'y'\nurl = 'https://x.org/a'\n", "duplicate feed url"),
    "missing url": ("[[feeds]]\nname = 'x'\n", "url is missing"),
    "bad security": ("[smtp]\nsecurity = 'tls'\n", "[smtp] security: 'tls' is not one of"),
    "bad toml": ("[poll\n", "not valid TOML"),
    "bad address": ("[digest]\nto = ['not an address']\n", "[digest] to: 'not an address' is not an email"),
    "bad allow": ("[poll]\nallow_private = ['host:port']\n", "is not a host, host:port or CIDR"),
    "bad subject": ("[digest]\nsubject = '{foo} new'\n", "[digest] subject: '{foo} new' is not a subject template"),
    "bad port": ("[smtp]\nport = 70000\n", "[smtp] port: 70000 is not a port"),
    "threshold range": ("[classifier]\nthreshold = 2\n", "[classifier] threshold: must be between 0 and 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_names_the_key(tmp_path, case):
    text, expected = BAD[case]
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load(p)
    message = str(err.value)
    assert expected in message, message
    assert str(p) in message.split(":")[0] + ":" + message  # names the file
    assert "\n" not in message


def _monitor(*args, env=None):
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("case", ["unknown key", "bad duration", "duplicate feed", "bad toml"])
def test_cli_bad_config_exits_2_with_one_line(tmp_path, case):
    p = tmp_path / "c.toml"
    p.write_text(BAD[case][0])
    r = _monitor("--config", str(p), "poll")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor: error: "), r.stderr
    assert "Traceback" not in r.stderr


def test_cli_missing_and_unreadable_config(tmp_path):
    r = _monitor("--config", str(tmp_path / "nope.toml"), "poll")
    assert r.returncode == 2 and "config file not found" in r.stderr
    r = _monitor("--config", str(tmp_path), "poll")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    p = tmp_path / "locked.toml"
    p.write_text(GOOD)
    p.chmod(0)
    if os.geteuid() != 0:  # root reads anything
        r = _monitor("--config", str(p), "poll")
        assert r.returncode == 2 and "cannot read" in r.stderr
