"""``govex mask``: mask a local table file, chunk by chunk, without a server.

The file is read in chunks of rows (Parquet batch by batch), the first chunk is profiled, and
every chunk is masked by the same rules and appended to the output, so memory stays bounded
whatever the file's size. Pseudonyms (``hash``) use the receiving department's key derived from
the instance's master key exactly as the server's delivery does, so a local mask and a delivery
to the same department give the same tokens.

``--engine spark`` masks a Parquet file or folder into a Parquet folder with Spark
(:mod:`masking.spark`): the first chunk (the first rows of the files in name order) is profiled
here as above, the executors mask with the same kernels and key, the report is the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

__all__ = ["COMMANDS"]

#: Inputs at least this large get a progress bar unless --no-progress.
PROGRESS_FROM_BYTES = 16 * 1024 * 1024


@click.command("mask")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Masked file to write, same format as INPUT (CSV is written as UTF-8); "
                   "with --engine spark a new Parquet folder.")
@click.option("--policy", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSON {column: operator | {"operator", "entity", "params"}}; '
                   "columns it does not name get the profiled defaults.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a JSON report: per column the detected type, operator and counts.")
@click.option("--recipient", metavar="DEPT",
              help="Receiving department: keys the hash operator's pseudonyms.")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="GOVEX_HOME",
              default="govex-data", show_default=True,
              help="Data directory holding the master key (GOVEX_HOME); GOVEX_SECRET wins.")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Rows masked at a time (bounds memory).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar (default: on for inputs over 16 MB).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True,
              help="local: this process, any format. spark: a Spark job over a Parquet file "
                   "or folder (needs govex[spark] and Java 17+).")
@click.option("--spark-master", envvar="GOVEX_SPARK_MASTER", default="local[2]",
              show_default=True, metavar="URL",
              help="Spark's master (GOVEX_SPARK_MASTER): local[N], spark://host:7077, yarn, "
                   "k8s://...; a cluster must enable spark.authenticate, "
                   "spark.network.crypto.enabled and spark.io.encryption.enabled.")
@click.option("--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
              help="A Spark setting passed through (repeatable).")
def mask_command(input_path: Path, output: Path, policy: Path | None, report: Path | None,
                 recipient: str | None, home: Path, chunk_rows: int,
                 progress: bool | None, engine: str, spark_master: str,
                 spark_conf: tuple[str, ...]) -> None:
    """Mask INPUT (CSV UTF-8/GBK, XLSX, Parquet, JSON Lines) into OUTPUT, locally.

    Without --policy every column is profiled: identifiers masked, free text scrubbed, the rest
    kept. Same columns and row order out, except dropped columns. With --engine spark, INPUT
    is a Parquet file or a folder of them, OUTPUT a new folder, and rows keep no order.
    """
    with _readable_errors():
        conf = _spark_settings(spark_conf)
        if engine == "spark":
            sources = _check_spark_paths(input_path, output)
        else:
            _check_paths(input_path, output)
        rules = _load_policy(policy) if policy else {}
        key = _recipient_key(recipient, home) if recipient else None
        if key is None and any(rule.operator == "hash" for rule in rules.values()):
            raise click.ClickException("the policy hashes a column: name the receiving "
                                       "department with --recipient DEPT")
        if engine == "spark":
            summary = _run_spark(input_path, sources, output, rules=rules, key=key, home=home,
                                 chunk_rows=chunk_rows, master=spark_master,
                                 conf={**conf, **_progress_conf(progress)})
        else:
            summary = _run(input_path, output, rules=rules, key=key, home=home,
                           chunk_rows=chunk_rows, progress=progress)
        summary["recipient"] = recipient
        if report:
            report.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                              encoding="utf-8")
    _echo_summary(summary, output)


@contextlib.contextmanager
def _readable_errors() -> Iterator[None]:
    """Errors of the input, the policy or the plan become one line and exit status 1."""
    from catalog import CatalogError
    from masking import MaskingError
    try:
        yield
    except (CatalogError, MaskingError) as exc:
        raise click.ClickException(str(exc)) from exc


def _check_paths(input_path: Path, output: Path) -> None:
    from catalog import format_of
    if input_path.is_dir():
        raise click.ClickException("INPUT is a folder: a folder of Parquet files is masked "
                                   "with --engine spark")
    if output.resolve() == input_path.resolve():
        raise click.ClickException("OUTPUT must not be INPUT")
    fmt_in, fmt_out = format_of(input_path.name), format_of(output.name)
    if fmt_in != fmt_out:
        raise click.ClickException(f"OUTPUT must be {fmt_in} like INPUT (got .{fmt_out})")


def _check_spark_paths(input_path: Path, output: Path) -> list[Path]:
    """The Parquet files to read; OUTPUT must be a new folder outside INPUT."""
    from catalog import format_of, table_files
    if output.exists():
        raise click.ClickException("OUTPUT exists: --engine spark writes a new folder")
    if input_path.resolve() in output.resolve().parents:
        raise click.ClickException("OUTPUT must not be inside INPUT")
    if input_path.is_dir():
        return table_files(input_path)
    fmt = format_of(input_path.name)
    if fmt != "parquet":
        raise click.ClickException(f"--engine spark reads Parquet only (INPUT is {fmt})")
    return [input_path]


def _spark_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--spark-conf")
        settings[key.strip()] = value
    return settings


def _progress_conf(progress: bool | None) -> dict[str, str]:
    return {} if progress is None else {"spark.ui.showConsoleProgress": str(progress).lower()}


def _load_policy(path: Path) -> dict[str, Any]:
    from masking import rules_from_policy
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path.name}: not a JSON policy ({exc})") from exc
    return rules_from_policy(document)


def _recipient_key(recipient: str, home: Path) -> bytes:
    """The department's pseudonym key, derived as the server derives it."""
    from ..config import load_settings
    from ..keys import MasterKey
    settings = load_settings({"home": home})
    if not settings.secret and not (settings.home / "master.key").exists():
        raise click.ClickException(f"no master key in {settings.home}: pass the instance's "
                                   "--home (or GOVEX_HOME) or set GOVEX_SECRET")
    _check_department(settings, recipient)
    return MasterKey.load(secret=settings.secret, home=settings.home).pseudonym_key(recipient)


def _check_department(settings: Any, code: str) -> None:
    """Refuse a department the instance does not know: its pseudonyms would match no
    delivery's. Without an instance database (only GOVEX_SECRET) there is nothing to check."""
    if not settings.database_url and not (settings.home / "govex.db").exists():
        return
    import sqlalchemy as sa

    from ..db import make_engine
    from ..models import departments
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            known = list(conn.execute(sa.select(departments.c.code)).scalars())
    finally:
        engine.dispose()
    if code not in known:
        raise click.ClickException(f"unknown department {code!r} in this instance (known: "
                                   f"{', '.join(sorted(known))})")


def _run(input_path: Path, output: Path, *, rules: dict[str, Any], key: bytes | None,
         home: Path, chunk_rows: int, progress: bool | None) -> dict[str, Any]:
    from catalog import open_table, open_writer
    from masking import ChunkedMasker, configure_jieba

    # The offline analyzer (Presidio, ~1 s to import) is built only if a column needs it: a
    # column of checksummed IDs under its usual header is profiled without it.
    configure_jieba(home / "cache" if home.is_dir() else None)
    masker = ChunkedMasker(policy=rules, hash_key=key)
    with open_table(input_path, chunk_rows=chunk_rows) as reader:
        chunks = iter(reader)
        first = next(chunks, None)
        if first is None:
            first = reader.empty()
        masker.plan(first)
        columns = masker.output_columns(reader.columns)
        if not columns:
            raise click.ClickException("the policy drops every column: nothing to write")
        show = (progress if progress is not None
                else input_path.stat().st_size >= PROGRESS_FROM_BYTES)
        with open_writer(output, fmt=reader.fmt, columns=columns) as writer, \
                _bar(show, reader) as advance:
            for chunk in _with_first(first, chunks):
                writer.write(masker.mask(chunk))
                advance()
        return {"input": input_path.name, "output": output.name, "format": reader.fmt,
                "encoding": getattr(reader, "encoding", None), "engine": "local",
                "rows": writer.rows,
                "columns": [c.to_dict() for c in masker.report()]}


def _run_spark(input_path: Path, sources: list[Path], output: Path, *, rules: dict[str, Any],
               key: bytes | None, home: Path, chunk_rows: int, master: str,
               conf: dict[str, str]) -> dict[str, Any]:
    """The Spark job; a failed one leaves no OUTPUT folder behind."""
    from catalog import as_text_chunk, first_rows
    from masking import configure_jieba, mask_parquet, open_spark

    configure_jieba(home / "cache" if home.is_dir() else None)
    first = first_rows(sources, chunk_rows)
    if master.startswith("local"):  # the JVM binds to loopback, without a warning about it
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        with open_spark(master, conf, batch_rows=chunk_rows) as spark:
            result = mask_parquet(spark, sources, output.resolve(), policy=rules, hash_key=key,
                                  first=first, prepare=as_text_chunk)
    except ModuleNotFoundError as exc:
        if exc.name not in ("pyspark", "py4j"):
            raise
        raise click.ClickException("--engine spark needs pyspark: pip install "
                                   "'govex[spark]'") from exc
    except BaseException:
        if output.is_dir():
            shutil.rmtree(output)
        raise
    return {"input": input_path.name, "output": output.name, "format": "parquet",
            "encoding": None, "engine": "spark", "files": len(sources), "rows": result.rows,
            "columns": [c.to_dict() for c in result.columns]}


def _with_first(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first.num_rows:
        yield first
    yield from rest


@contextlib.contextmanager
def _bar(show: bool, reader: Any) -> Iterator[Any]:
    """A function to call after each chunk: moves a progress bar on stderr when ``show``."""
    if not show or not reader.total:
        yield lambda: None
        return
    unit = "rows" if reader.fmt in ("parquet", "xlsx") else "bytes"
    with click.progressbar(length=reader.total, label=f"masking ({unit})",
                           file=click.get_text_stream("stderr")) as bar:
        done = [0]

        def advance() -> None:
            bar.update(reader.position - done[0])
            done[0] = reader.position
        yield advance


def _echo_summary(summary: dict[str, Any], output: Path) -> None:
    columns = summary["columns"]
    dropped = sum(1 for c in columns if c["changed"] is None)
    click.echo(f"masked {summary['rows']} rows, {len(columns) - dropped} columns "
               f"({dropped} dropped) -> {output}")
    for column in columns:
        changed = "dropped" if column["changed"] is None else f"{column['changed']} changed"
        click.echo(f"  {column['column']}: {column['kind']}"
                   f"{'/' + column['entity'] if column['entity'] else ''} -> "
                   f"{column['operator']} ({changed})")
    if summary["format"] == "csv" and summary["encoding"] != "utf8":
        click.echo("note: the input CSV was GBK; the output is UTF-8")


#: The commands this module adds to ``govex`` (see :mod:`exchange.cli`).
COMMANDS: tuple[click.Command, ...] = (mask_command,)
