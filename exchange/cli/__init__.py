"""``govex``: the command line. A client of the server over HTTP, plus local admin commands.

The root group lives in :mod:`exchange.cli._root`; each module here defines its commands and
lists them in ``COMMANDS``, and this module adds them, in this order, to the root: no module
registers itself on import. Heavy libraries (pandas, Presidio, Great Expectations) are
imported inside the commands that need them, so ``govex --help`` answers at once.
"""

from __future__ import annotations

import sys

import click

from . import admin, audit, mask, remote
from ._root import Context, cli, pass_ctx

__all__ = ["Context", "cli", "main", "pass_ctx"]

for _module in (admin, remote, audit, mask):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point: errors become one readable line and a non-zero exit status."""
    from ..client import ApiError
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ApiError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (OSError, ValueError, LookupError, PermissionError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 (the last line of defence: one line, exit 1)
        if _is_domain_error(exc):
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        raise


def _is_domain_error(exc: Exception) -> bool:
    return type(exc).__module__.split(".")[0] in ("audit", "catalog", "masking", "policies",
                                                   "exchange")
