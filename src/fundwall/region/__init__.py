"""The region data layout: a folder of Parquet files and `manifest.json` (docs/data-layout.md).

The simulator and the importers write regions, `fundwall load` puts them into the store, and
the engine, replay and backtest read them; all of them through this package, so the layout is
declared once. `schema` holds the Arrow schema of each file (the transactions' from the
domain's field declaration), `files` reads and writes them.
"""

from fundwall.region.files import ROW_GROUP, read_table, write_chunks, write_manifest, write_table
from fundwall.region.schema import FILES, FORMAT, NULL_WHEN_ABSENT, SCHEMAS, TRANSACTIONS, TS

__all__ = [
    "FILES",
    "FORMAT",
    "NULL_WHEN_ABSENT",
    "ROW_GROUP",
    "SCHEMAS",
    "TRANSACTIONS",
    "TS",
    "read_table",
    "write_chunks",
    "write_manifest",
    "write_table",
]
