#!/usr/bin/env python3
"""Benchmark ``monitor.extract.main_text`` against trafilatura's defaults (``make bench``).

Runs the two shared scorers, one extractor at a time (so pages/s compare):

* ``extraction/score.py`` -- 181 mostly English pages, given as decoded text;
* ``extraction-zh/score.py --decode verified`` -- 85 Chinese pages, decoded correctly
  by the scorer (the extractor gets ``str``);
* ``extraction-zh/score.py --decode bytes`` -- the same pages as raw bytes: ``main_text``
  gets them through ``monitor.extract.decode`` (adapter :func:`main_text_bytes` below),
  the baselines decode them themselves.

and prints a markdown table. Baselines come from ``extraction-zh/adapters.py``:
``trafilatura_default`` (``trafilatura.extract(html, url=url)``) and, with
``--extractors main,trafilatura,readability``, ``readability`` (readability-lxml alone).

Usage::

    python bench/bench_extract.py [--bench-dir ../shared/bench] [--extractors main,trafilatura]

Exits 0 with a message when the bench folder is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
THIS = Path(__file__).resolve()


def main_text_bytes(html: bytes | str, url: str | None = None) -> str:
    """Scorer adapter for ``--decode bytes``: our decoder, then ``main_text``."""
    from monitor.extract import decode, main_text

    return main_text(decode(html) if isinstance(html, bytes) else html, url)


def specs(bench: Path, name: str, raw: bool) -> tuple[str, str]:
    """(label, scorer --extractor spec) for extractor ``name``; ``raw`` = bytes mode."""
    adapters = bench / "extraction-zh" / "adapters.py"
    if name == "main":
        if raw:
            return "monitor.extract.main_text (our decode)", f"{THIS}:main_text_bytes"
        return "monitor.extract.main_text", "monitor.extract:main_text"
    if name == "trafilatura":
        label = "trafilatura 2.x defaults" + (" (its own decoding)" if raw else "")
        return label, f"{adapters}:trafilatura_default"
    if name == "readability":
        label = "readability-lxml alone" + (" (its own decoding)" if raw else "")
        return label, f"{adapters}:readability"
    raise SystemExit(f"unknown extractor {name!r} (main, trafilatura, readability)")


def run(scorer: Path, spec: str, extra: list[str]) -> dict:
    """Run one scorer on one extractor and return its JSON summary line."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    cmd = [sys.executable, str(scorer), "--extractor", spec, "--json-only", *extra]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[0])


def row(bench_name: str, mode: str, label: str, r: dict) -> str:
    """One markdown table row."""
    ci = r.get("f1_ci95") or ["?", "?"]
    snip = f"{r['snippet_f1']:.3f}" if "snippet_f1" in r else "-"
    return (f"| {bench_name} | {mode} | {label} | {r['f1']:.3f} [{ci[0]:.3f}-{ci[1]:.3f}] | "
            f"{r['precision']:.3f} / {r['recall']:.3f} | {snip} | "
            f"{r.get('empty_predictions', 0)} | {r.get('docs_per_s', 0):.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench-dir", type=Path, default=REPO.parent / "shared" / "bench",
                    help="folder holding extraction/ and extraction-zh/ (default: ../shared/bench)")
    ap.add_argument("--extractors", default="main,trafilatura",
                    help="comma list of main, trafilatura, readability")
    args = ap.parse_args()
    bench = args.bench_dir.resolve()
    en, zh = bench / "extraction" / "score.py", bench / "extraction-zh" / "score.py"
    if not (en.is_file() and zh.is_file()):
        print(f"bench folder not found at {bench} (need extraction/ and extraction-zh/); skipping")
        return 0
    names = [n.strip() for n in args.extractors.split(",") if n.strip()]
    runs = [("extraction (181, en)", "text", en, [], False),
            ("extraction-zh (85 zh)", "verified", zh, ["--decode", "verified"], False),
            ("extraction-zh (85 zh)", "bytes", zh, ["--decode", "bytes"], True)]
    print("| benchmark | input | extractor | F1 [95% CI] | P / R | snippet F1 | empty | pages/s |")
    print("|---|---|---|---|---|---|---|---|")
    for bench_name, mode, scorer, extra, raw in runs:
        for name in names:
            label, spec = specs(bench, name, raw)
            print(row(bench_name, mode, label, run(scorer, spec, extra)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
