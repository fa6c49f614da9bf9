"""A Datasette plugin: search that finds two-character Chinese words.

The store indexes each run of CJK characters as overlapping bigrams (see
``monitor.store.segment``). Datasette's table search wraps the query with the
SQL function ``escape_fts``; this plugin registers a version of that function
that segments CJK runs the same way, so ``腾讯`` matches the indexed bigram
``腾讯`` and ``阿里巴巴`` matches the phrase ``阿里 里巴 巴巴``. Queries without
CJK characters are escaped exactly as Datasette does.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import escape_fts

from monitor.store import segment


def escape_fts_cjk(query: str) -> str:
    return escape_fts(segment(query)) if query else query


@hookimpl(trylast=True)
def prepare_connection(conn):
    conn.create_function("escape_fts", 1, escape_fts_cjk)
    conn.create_function("monitor_segment", 1, segment)
