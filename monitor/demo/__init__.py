"""The bundled sample newsroom: a small static news site served over HTTP.

``monitor.demo.newsroom.Newsroom`` serves ``site/`` on 127.0.0.1 for tests and
for trying the daemon without touching the internet; ``sources.toml`` lists its
feeds and index pages, and ``site/labels.json`` says which agreements each
article reports.
"""

from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent
SITE_DIR = DEMO_DIR / "site"
SOURCES_FILE = DEMO_DIR / "sources.toml"
LABELS_FILE = SITE_DIR / "labels.json"
