"""``govex``: the command line. A client of the server over HTTP, plus local admin commands.

Heavy libraries (pandas, Presidio, Great Expectations) are imported inside the commands that
need them, so ``govex --help`` answers at once.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

__all__ = ["main", "cli"]

DEFAULT_URL = "http://127.0.0.1:8080"


class Context:
    """Options every client command shares."""

    def __init__(self, url: str, token: str | None, as_json: bool) -> None:
        self.url, self.token, self.as_json = url, token, as_json

    def client(self) -> Any:
        from .client import Client
        return Client(self.url, token=self.token)

    def emit(self, obj: Any, human: str | None = None) -> None:
        """One JSON object with --json, else the human text."""
        if self.as_json or human is None:
            click.echo(json.dumps(obj, ensure_ascii=False, indent=None if self.as_json else 2))
        else:
            click.echo(human)


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="GOVEX_URL", default=DEFAULT_URL, show_default=True,
              help="Server address (GOVEX_URL).")
@click.option("--token", envvar="GOVEX_TOKEN", help="API token (GOVEX_TOKEN).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def cli(ctx: click.Context, url: str, token: str | None, as_json: bool) -> None:
    """govex — privacy-preserving data exchange between government departments."""
    ctx.obj = Context(url, token, as_json)


def main() -> None:
    """Entry point: errors become one readable line and a non-zero exit status."""
    from .client import ApiError
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


from . import cli_admin, cli_audit, cli_client, cli_mask  # noqa: E402,F401  (register commands)
