"""The README documents every command and every config key (docs kept honest by a test)."""

from __future__ import annotations

import re

import click

from monitor.cli import main
from monitor.config import FEED_SETTINGS, SETTINGS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented():
    missing = [f"[{section}] {key}" for section, keys in SETTINGS.items() for key in keys
               if not re.search(rf"`{key}`", README.split("## Configuration", 1)[1])]
    missing += [f"[[feeds]] {key}" for key in FEED_SETTINGS
                if f"`{key}`" not in README.split("## Configuration", 1)[1]]
    assert not missing, missing


def _commands(group: click.Group, prefix: str = "monitor"):
    for name, cmd in group.commands.items():
        yield f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{prefix} {name}")


def test_every_command_is_documented():
    missing = [c for c in _commands(main) if f"`{c}" not in README]
    assert not missing, missing


def test_quick_start_and_ci():
    assert "make demo" in README and "make test" in README and "make run" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
