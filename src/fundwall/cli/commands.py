"""Every command of `fundwall`: its name, its help line and where it lives, without importing
it.

`fundwall --help` and the look-up of a command read only this table (`fundwall.cli.lazy`);
a command's module, and whatever it needs (the engine, numpy, pyarrow, the store), is imported
when that command runs or shows its own help. A help line is the first paragraph of the
command's own help (its docstring, or its group's `help=`); a test holds the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Entry:
    """A top-level command: a function (`module:function`) or a group of subcommands
    (`module:typer_app`)."""

    name: str
    target: str
    help: str


COMMANDS: Final = (
    Entry(
        "sim",
        "fundwall.cli.sim:sim",
        "Simulate one region's banking life with fraud woven in, and write it as Parquet.",
    ),
    Entry(
        "load",
        "fundwall.cli.sim:load",
        "Load a region folder into the configured database (upgrading its schema first).",
    ),
    Entry(
        "demo",
        "fundwall.cli.demo:demo",
        "Run the demo: a simulated region decided live, with the console on port 8000.",
    ),
    Entry(
        "serve",
        "fundwall.cli.serve:serve",
        "Serve the HTTP API (documented at /docs) and the console, until Ctrl-C.",
    ),
    Entry(
        "backtest",
        "fundwall.cli.backtest:backtest",
        "Replay a region through a rule pack (and a model) and score the decisions against its "
        "labels. `--rules none` leaves the model (and the hard controls) alone.",
    ),
    Entry(
        "replay",
        "fundwall.cli.engine:replay_command",
        "Decide every transaction of SOURCE in bulk, as the online path would, to Parquet.",
    ),
    Entry(
        "decide",
        "fundwall.cli.engine:decide_command",
        "Decide JSON lines of transactions through the durable service over the store.",
    ),
    Entry(
        "bench",
        "fundwall.cli.bench:bench",
        "Measure replay, online and HTTP throughput and latency against the goals.",
    ),
    Entry(
        "trace",
        "fundwall.cli.trace:trace",
        "Trace victims' money hop by hop, amount-aware, to where it rests or leaves.",
    ),
    Entry(
        "train",
        "fundwall.cli.train:train",
        "Train a model on a region's labels and the engine's own features.",
    ),
    Entry(
        "screen",
        "fundwall.cli.screen:screen",
        "Screen the account base: dormant, idle new, one person with many accounts, batch "
        "openings, punished holders, shared phones.",
    ),
    Entry(
        "report",
        "fundwall.cli.report:report",
        "Print the official statistics of a period, and export them to Excel or PDF.",
    ),
    Entry(
        "db",
        "fundwall.cli.db:app",
        "The database schema: create or upgrade it, show its revision.",
    ),
    Entry(
        "audit",
        "fundwall.cli.audit:app",
        "The tamper-evident audit log: verify its chain, sign its head, show its latest records.",
    ),
    Entry(
        "rules",
        "fundwall.cli.rules:app",
        "Rule packs: check files, list their rules, compare two versions.",
    ),
    Entry(
        "import",
        "fundwall.cli.sim:import_app",
        "Convert public research data sets (AMLSim, PaySim) into a region folder.",
    ),
    Entry(
        "user",
        "fundwall.cli.users:user_app",
        "Console users: add, list, change passwords, unlock.",
    ),
    Entry(
        "apikey",
        "fundwall.cli.users:apikey_app",
        "API keys of members for system-to-system calls: add (shown once), list, revoke.",
    ),
    Entry(
        "orders",
        "fundwall.cli.orders:app",
        "Police orders: list them, expire those whose time ran out.",
    ),
    Entry(
        "sms",
        "fundwall.cli.sms:app",
        "The SMS outbox: what the local gateway's handset received.",
    ),
    Entry(
        "packs",
        "fundwall.cli.engine:packs_app",
        "The rule-pack registry: list versions, register a file, promote, run in shadow.",
    ),
    Entry(
        "labels",
        "fundwall.cli.labels:app",
        "Labels from closed cases: accounts and transactions with their case's outcome.",
    ),
    Entry(
        "traces",
        "fundwall.cli.traces:app",
        "Funds-chain traces over the store: start one, list them, stop a chain in one batch.",
    ),
    Entry(
        "models",
        "fundwall.cli.models:app",
        "The model registry: list models, register a model folder, promote, show a card.",
    ),
    Entry(
        "scores",
        "fundwall.cli.scores:app",
        "The accounts' mule scores: refresh them with the accounts champion.",
    ),
    Entry(
        "share",
        "fundwall.cli.share:app",
        "The risk-information sharing hub: hash, publish, query, match, follow, keys.",
    ),
    Entry(
        "phones",
        "fundwall.cli.phones:app",
        "Phone real-name checks: re-check bound phones, the investigations.",
    ),
)
"""In the order `fundwall --help` lists them: single commands, then groups."""
