"""The command line as a user runs it: classify, digest previews, feeds, feeds check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.pipeline import poll_once
from monitor.store import Store

from .conftest import ROOT

SEED = ROOT / "tests" / "data" / "seed_000.txt"


def monitor(*args, input=None, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True,
                          text=True, timeout=120, input=input, cwd=cwd,
                          env={**os.environ, **(env or {})})


def write_config(cfg, path: Path) -> Path:
    """A config.toml equivalent to ``cfg`` (the demo config of the test newsroom)."""
    lines = ["[store]", f'path = "{cfg.store_path}"', "[poll]",
             f'allow_private = {json.dumps(list(cfg.poll.allow_private))}', "workers = 1",
             "[digest]", f'outbox = "{cfg.outbox_path}"', 'to = ["a@example.org"]']
    for f in cfg.feeds:
        lines += ["[[feeds]]", f"name = {json.dumps(f.name)}", f'url = "{f.url}"',
                  f'kind = "{f.kind}"']
        if f.selector:
            lines.append(f"selector = {json.dumps(f.selector)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_classify_seed_file(tmp_path):
    r = monitor("classify", str(SEED), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["match"] is True
    got = {(a["province"], tuple(a["companies"])) for a in out["agreements"]}
    assert got == {("Yunnan", ("PDD",)), ("Hebei", ("Alibaba",)),
                   ("Chongqing", ("Alibaba", "Ant Group")), ("Hebei", ("Tencent",))}
    for a in out["agreements"]:
        assert set(a) == {"province", "level", "government", "companies", "kind", "signed_on",
                          "score", "evidence", "rules"}
        assert 0 <= a["score"] <= 1 and a["evidence"] and a["rules"]
        assert a["signed_on"] is None or not a["signed_on"].startswith("2018")


def test_classify_explain_shows_rejections(tmp_path):
    r = monitor("classify", "--explain", str(SEED), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ACCEPTED") == 4
    assert "sentence:" in r.stdout


def test_classify_jsonl_contract_and_broken_lines(tmp_path):
    lines = [
        json.dumps({"id": "a", "title": "Tencent signs with Guangdong",
                    "text": "Tencent signed a strategic cooperation agreement with the "
                            "Guangdong provincial government on Monday in Guangzhou.",
                    "published": "2021-03-10", "url": "https://x.example/a", "lang": "en"}),
        "{not json",
        json.dumps({"id": "c", "title": "天气", "text": "今天天气很好。", "published": "2021-03-10"}),
        json.dumps([1, 2]),
        json.dumps({"id": "e", "title": 5, "text": "x"}),
    ]
    r = monitor("classify", "--jsonl", input="\n".join(lines) + "\n", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["id"] == "a" and out[0]["match"] is True
    assert out[0]["agreements"][0]["province"] == "Guangdong"
    assert out[0]["agreements"][0]["companies"] == ["Tencent"]
    assert out[0]["agreements"][0]["signed_on"] == "2021-03-08"
    assert "error" in out[1] and out[1]["line"] == 2
    assert out[2] == {"id": "c", "match": False, "agreements": []}
    assert "error" in out[3] and "error" in out[4] and out[4]["id"] == "e"


@pytest.fixture
def polled(make_config, tmp_path):
    cfg = make_config()
    with Store(cfg.store_path) as store:
        poll_once(cfg, store)
    return write_config(cfg, tmp_path / "config.toml"), cfg


def test_digest_dry_run_and_preview_send_nothing(polled, tmp_path):
    path, cfg = polled
    r = monitor("--config", str(path), "digest", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Subject: ") and "Hebei" in r.stdout
    preview = tmp_path / "preview.html"
    r = monitor("--config", str(path), "digest", "--preview", str(preview))
    assert r.returncode == 0 and "<html" in preview.read_text().lower()
    with Store(cfg.store_path) as store:
        assert store.count("digests") == 0
        assert len(store.undigested_ids()) == store.count("agreements")
    r = monitor("--config", str(path), "digest")
    assert r.returncode == 0 and "sent by outbox" in r.stdout
    assert len(list(cfg.outbox_path.glob("*.eml"))) == 1
    r = monitor("--config", str(path), "digest")
    assert "Nothing new" in r.stdout
    assert len(list(cfg.outbox_path.glob("*.eml"))) == 1


def test_feeds_lists_health(polled):
    path, cfg = polled
    r = monitor("--config", str(path), "feeds")
    assert r.returncode == 0, r.stderr
    for f in cfg.feeds:
        assert f.name[:30] in r.stdout
    assert " ok " in r.stdout or " stale " in r.stdout  # the sample items are from 2019
    assert "stale" in r.stdout


def test_feeds_check_adds_nothing(polled, newsroom):
    path, cfg = polled
    with Store(cfg.store_path) as store:
        before = store.count("articles")
    r = monitor("--config", str(path), "feeds", "check", newsroom.url("/wire/rss.xml"))
    assert r.returncode == 0, r.stderr
    assert "HTTP 200" in r.stdout and "entries" in r.stdout
    assert "agreement(s)" in r.stdout and "Hebei" in r.stdout
    r = monitor("--config", str(path), "feeds", "check", newsroom.url("/portal/"),
                "--kind", "page")
    assert r.returncode == 0 and "feed found at" in r.stdout
    with Store(cfg.store_path) as store:
        assert store.count("articles") == before


def test_poll_exit_status_when_every_source_fails(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[store]\npath = "{tmp_path}/x.db"\n[poll]\n'
                   f'allow_private = ["127.0.0.1:{port}"]\nworkers = 1\ntimeout = "5s"\n'
                   f'[[feeds]]\nname = "down"\nurl = "http://127.0.0.1:{port}/rss"\n')
    r = monitor("--config", str(cfg), "poll")
    assert r.returncode == 1, r.stderr
    assert "1 failed" in r.stdout and "Traceback" not in r.stderr


def test_help_for_every_command():
    for args in (["--help"], ["demo", "--help"], ["poll", "--help"], ["run", "--help"],
                 ["digest", "--help"], ["classify", "--help"], ["feeds", "--help"],
                 ["feeds", "check", "--help"], ["serve", "--help"]):
        r = monitor(*args)
        assert r.returncode == 0 and "Usage:" in r.stdout, args


def test_bad_rules_file_and_bad_preview_path_are_one_line_exit_2(polled, tmp_path):
    path, cfg = polled
    text = path.read_text()
    bad = tmp_path / "bad-rules.toml"
    bad.write_text("[[company]]\nid = 'x'\nnme = 'typo'\n")
    for rules in ([str(tmp_path / "missing.toml")], [str(bad)]):
        path.write_text(text + f"[classifier]\nrules = {json.dumps(rules)}\n")
        r = monitor("--config", str(path), "poll")
        assert r.returncode == 2, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
        assert Path(rules[0]).name in r.stderr
    path.write_text(text)
    r = monitor("--config", str(path), "digest", "--preview", str(tmp_path / "no" / "x.html"))
    assert r.returncode == 2 and "cannot write the preview" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
