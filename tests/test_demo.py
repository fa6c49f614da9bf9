"""`make demo` itself: the offline demo runs and prints the agreements it found."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
from email import policy as email_policy

import pytest

from monitor.demo.newsroom import DEFAULT_SITE

from .conftest import ROOT

pytestmark = pytest.mark.slow

LABELS = json.loads((DEFAULT_SITE / "labels.json").read_text(encoding="utf-8"))


def test_make_demo_runs_and_reports(tmp_path):
    venv_monitor = ROOT / ".venv" / "bin" / "monitor"
    if shutil.which("make") and venv_monitor.exists():
        # the real target, with its var folder moved out of the checkout
        cmd = ["make", "-s", "-C", str(ROOT), "demo"]
        env = {**os.environ, "MONITOR_DEMO_VAR": str(tmp_path / "var")}
    else:
        cmd = [sys.executable, "-m", "monitor.cli", "demo", "--var", str(tmp_path / "var")]
        env = dict(os.environ)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "Polled 6 sources of the sample newsroom" in out
    provinces = {a["province"] for agreements in LABELS.values() for a in agreements}
    for province in provinces:
        assert province in out
    assert "make serve" in out
    db = tmp_path / "var" / "demo.db"
    assert db.exists()
    eml = list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert len(eml) == 1
    msg = email.message_from_bytes(eml[0].read_bytes(), policy=email_policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert "Hebei" in msg.get_body(("plain",)).get_content()
