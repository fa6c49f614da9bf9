"""Datasette on the store: the command line that ``monitor serve`` runs.

The metadata (titles, descriptions, facets, canned queries) ships in
``monitor/datasette/metadata.json``; the plugin in ``monitor/datasette/plugin.py``
(registered as a ``datasette`` entry point) makes the search box find
two-character Chinese words.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

METADATA = Path(__file__).resolve().parent / "datasette" / "metadata.json"


def metadata_for(db: Path) -> dict:
    """The shipped metadata with its database key set to this store's name."""
    data = json.loads(METADATA.read_text(encoding="utf-8"))
    data["databases"] = {db.stem: data["databases"]["__db__"]}
    return data


def write_metadata(db: Path, folder: Path | None = None) -> Path:
    """The metadata file for ``db``: one fixed file per store name, rewritten each time
    (``monitor serve`` becomes Datasette, so nothing would be left to remove a new one)."""
    folder = folder or Path(tempfile.gettempdir()) / f"monitor-datasette-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{db.stem}-metadata.json"
    path.write_text(json.dumps(metadata_for(db), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def datasette_command(db: Path, *, host: str = "127.0.0.1", port: int = 8001,
                      metadata: Path | None = None) -> list[str]:
    metadata = metadata or write_metadata(db)
    return [sys.executable, "-m", "datasette", "serve", str(db), "--metadata", str(metadata),
            "--host", host, "--port", str(port), "--setting", "default_page_size", "50",
            "--setting", "sql_time_limit_ms", "3000"]
