"""The root ``govex`` group and what every client command shares (server, token, --json).

It knows no command: :mod:`exchange.cli` adds each module's ``COMMANDS`` to it.
"""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["DEFAULT_URL", "Context", "cli", "pass_ctx"]

DEFAULT_URL = "http://127.0.0.1:8080"


class Context:
    """Options every client command shares."""

    def __init__(self, url: str, token: str | None, as_json: bool) -> None:
        self.url, self.token, self.as_json = url, token, as_json

    def client(self) -> Any:
        from ..client import Client
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
