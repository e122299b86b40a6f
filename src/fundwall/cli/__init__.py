"""The `fundwall` command line: thin commands over the same services the API and console use.

Each room registers its commands here; a FundwallError becomes one clear line and exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from fundwall.domain.errors import FundwallError

app = typer.Typer(
    name="fundwall",
    help="Fundwall: cut the funds chain of telecom and online fraud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def main() -> None:
    """Entry point of the `fundwall` script."""
    try:
        app()
    except FundwallError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)


# Each room's commands, registered once `app` exists.
from fundwall.cli import audit as _audit_commands  # noqa: E402
from fundwall.cli import db as _db_commands  # noqa: E402

app.add_typer(_db_commands.app, name="db")
app.add_typer(_audit_commands.app, name="audit")

from fundwall.cli import rules as _rules_commands  # noqa: E402

app.add_typer(_rules_commands.app, name="rules")

from fundwall.cli import sim as _sim_commands  # noqa: E402

_sim_commands.register(app)

from fundwall.cli import users as _user_commands  # noqa: E402

_user_commands.register(app)

from fundwall.cli import orders as _order_commands  # noqa: E402

_order_commands.register(app)

from fundwall.cli import demo as _demo_commands  # noqa: E402

_demo_commands.register(app)

from fundwall.cli import serve as _serve_commands  # noqa: E402

_serve_commands.register(app)

from fundwall.cli import backtest as _backtest_commands  # noqa: E402

_backtest_commands.register(app)

from fundwall.cli import engine as _engine_commands  # noqa: E402

_engine_commands.register(app)

from fundwall.cli import bench as _bench_commands  # noqa: E402

_bench_commands.register(app)

from fundwall.cli import labels as _labels_commands  # noqa: E402

_labels_commands.register(app)

from fundwall.cli import trace as _trace_commands  # noqa: E402

_trace_commands.register(app)

from fundwall.cli import traces as _traces_commands  # noqa: E402

_traces_commands.register(app)

from fundwall.cli import train as _train_commands  # noqa: E402

_train_commands.register(app)

from fundwall.cli import models as _models_commands  # noqa: E402

_models_commands.register(app)

from fundwall.cli import scores as _scores_commands  # noqa: E402

_scores_commands.register(app)

from fundwall.cli import share as _share_commands  # noqa: E402

_share_commands.register(app)

from fundwall.cli import phones as _phones_commands  # noqa: E402

_phones_commands.register(app)

from fundwall.cli import screen as _screen_commands  # noqa: E402

_screen_commands.register(app)

from fundwall.cli import report as _report_commands  # noqa: E402

_report_commands.register(app)
