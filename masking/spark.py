"""Masking a Parquet table with Spark: the single-machine plan and kernels, run on executors.

For tables beyond one machine. The driver profiles a sample exactly as the single-machine path
profiles its first chunk (:meth:`ChunkedMasker.plan`), so both engines apply the same rules;
``DataFrame.mapInArrow`` then hands each executor's Arrow batches to a copy of that planned
:class:`~masking.stream.ChunkedMasker` (the same operators, column by column, in bulk), the
masked batches are written as a Parquet folder, and the per-column counts the copies made come
back through an accumulator and are added into one report, the same as the single-machine
one. pyspark is imported here only: nothing else in govex needs it (``pip install
'govex[spark]'``; a Java 17+ runtime)::

    spark = spark_session("local[2]")                      # or "spark://host:7077", "yarn" ...
    result = mask_parquet(spark, ["/shared/residents/part-0.parquet", ...], "/shared/out",
                          policy=rules, hash_key=recipient_key, first=first_chunk,
                          prepare=catalog.as_text_chunk)
    result.rows, [c.to_dict() for c in result.columns]     # the report

``first`` is the chunk to profile (the CLI reads it with :func:`catalog.open_table` from the
first file, as the single-machine path does); without it the driver takes the first
``sample_rows`` rows Spark reads. ``prepare`` turns each batch into what the kernels expect
(the catalog's readers give text columns, empty cells null): with the catalog's own function
both engines see the same values.

How the pseudonym key travels (the exchange keeps the master key):

- ``hash_key`` is the receiving department's pseudonym key, derived on the exchange from the
  master key for that one department. The master key never leaves the exchange; the derived
  key can make (and link) only that department's pseudonyms, which that department receives
  anyway.
- It reaches executors only inside the serialized task closure (the pickled, planned masker
  that ``mapInArrow`` runs): not in a broadcast variable, not in the Spark or SQL conf, not in
  the query plan (which names the function, not its contents), not in the event log, and
  ``repr`` of the masker's context leaves it out, so no log line prints it. The closure is kept
  under :data:`MAX_CLOSURE_BYTES`, below the size at which PySpark would turn it into a
  broadcast file (``spark.broadcast.UDFCompressionThreshold``, 1 MiB by default).
- Spark itself ships each stage's task binary (the closure among it) from the driver to the
  executors through its block managers: in memory, written to an executor's local disk only
  if it spills. So on a cluster :data:`CLUSTER_SECURITY_CONF` is required (the engine refuses
  to run without it): ``spark.authenticate`` (only this application's executors may connect
  and fetch blocks), ``spark.network.crypto.enabled`` (RPC and block transfers encrypted),
  ``spark.io.encryption.enabled`` (anything spilled or shuffled to local disk encrypted). A
  ``local[...]`` master runs the executors inside the exchange's own machine: the key crosses
  only loopback sockets between the driver and its own Python workers.
- Executors see the rows of the table (they mask them); they need govex, its dependencies and
  the same version on their Python (``spark.pyspark.python``, or a packed environment through
  ``spark.archives``). The free-text analyzer and NER model are built once per Python worker
  (a process-wide cache) from the installed packages: nothing is shipped or downloaded.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from masking.errors import InvalidMaskingPlan, SparkJobFailed
from masking.profile import ColumnProfile
from masking.stream import ChunkedMasker, ColumnReport
from masking.table import ColumnRule

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["CLUSTER_SECURITY_CONF", "LOCAL_MASTER", "MAX_CLOSURE_BYTES", "SparkMaskResult",
           "mask_parquet", "open_spark", "spark_session"]

LOCAL_MASTER = "local[2]"
#: What a cluster must have on for the pseudonym key to cross it (see the module docstring).
CLUSTER_SECURITY_CONF: Mapping[str, str] = {
    "spark.authenticate": "true",
    "spark.network.crypto.enabled": "true",
    "spark.io.encryption.enabled": "true",
}
#: The serialized masking closure (plan and key) must stay under this many bytes.
MAX_CLOSURE_BYTES = 512 * 1024

_SESSION_DEFAULTS = {
    "spark.app.name": "govex-mask",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Arrow's text of a timestamp with a zone is then the same as pyarrow's of a UTC one
    "spark.sql.session.timeZone": "UTC",
}
_LOCAL_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # the driver is the executor: with Spark's 1 GiB heap, 1M rows took 18.7 s, with 4 GiB 11.2 s
    "spark.driver.memory": "4g",
}
#: pyspark warns at import that it does not support pandas 3; the engine passes Arrow batches
#: only (mapInArrow, toArrow), never pandas frames.
_PANDAS_WARNING = "PySpark does not yet fully support pandas"
#: The last line of a traceback raised by govex's own code on an executor.
_OWN_ERROR = re.compile(r"^(?:masking|catalog)\.[\w.]*?(\w+): (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class SparkMaskResult:
    """What a Spark masking job wrote: rows, the columns delivered, one report per input
    column (as :meth:`ChunkedMasker.report`) and the rules applied."""

    rows: int
    output_columns: list[str]
    columns: list[ColumnReport]
    rules: dict[str, ColumnRule]


def spark_session(master: str = LOCAL_MASTER, conf: Mapping[str, str] | None = None, *,
                  batch_rows: int | None = None) -> SparkSession:
    """A Spark session for masking (``getOrCreate``: an active one is reused as it is).

    Defaults, each overridden by ``conf``: no UI, session time zone UTC, on a ``local`` master
    the driver on 127.0.0.1 with a 4 GiB heap (a new JVM only) and the executors' Python the
    driver's own interpreter (elsewhere
    ``spark.pyspark.python`` in ``conf``, else ``PYSPARK_PYTHON`` or ``python3``);
    ``batch_rows`` sets ``spark.sql.execution.arrow.maxRecordsPerBatch`` (rows per Arrow batch an
    executor masks at once). Logs at WARN. Nothing is downloaded (no ``spark.jars.packages``).
    Raises ImportError without pyspark, SparkJobFailed when Spark cannot start (no Java 17+).
    """
    from pyspark.sql import SparkSession

    settings = dict(_SESSION_DEFAULTS)
    local = master.startswith("local")
    if local:
        settings.update(_LOCAL_DEFAULTS)
        settings["spark.pyspark.python"] = sys.executable
    if batch_rows is not None:
        settings["spark.sql.execution.arrow.maxRecordsPerBatch"] = str(batch_rows)
    settings.update(conf or {})
    builder = SparkSession.builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = _spark_call(builder.getOrCreate, failed="Spark did not start ({}): it needs a Java "
                        "17+ runtime (java on PATH, or JAVA_HOME) and a master it can reach")
    spark.sparkContext.setLogLevel("WARN")
    if "spark.pyspark.python" in settings:  # PySpark reads it from the environment only
        spark.sparkContext.pythonExec = settings["spark.pyspark.python"]
    return spark


@contextlib.contextmanager
def open_spark(master: str = LOCAL_MASTER, conf: Mapping[str, str] | None = None, *,
               batch_rows: int | None = None) -> Iterator[SparkSession]:
    """:func:`spark_session` for one job: stopped on leaving, unless it was already running
    (then it is reused as it is, and left running for its owner)."""
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    spark = spark_session(master, conf, batch_rows=batch_rows)
    try:
        yield spark
    finally:
        if running is None:
            spark.stop()


def mask_parquet(
    spark: SparkSession,
    sources: str | Path | Sequence[str | Path],
    output: str | Path,
    *,
    policy: Mapping[str, ColumnRule] | None = None,
    hash_key: bytes | None = None,
    first: pa.Table | None = None,
    prepare: Callable[[pa.Table], pa.Table] | None = None,
    sample_rows: int = 100_000,
    profiles: Sequence[ColumnProfile] | None = None,
) -> SparkMaskResult:
    """Mask the Parquet ``sources`` (files or folders Spark reads) into the Parquet folder
    ``output`` (which must not exist), by the plan made from ``first`` (see the module
    docstring) and ``policy``; pseudonyms keyed by ``hash_key``. Rows keep no order. With
    ``profiles`` (made earlier, e.g. when an external table was registered) nothing is
    profiled: the policy's rules are adopted over them (:meth:`ChunkedMasker.adopt`), as a
    delivery on one machine does.

    Raises InvalidMaskingPlan (the plan's errors, as :meth:`ChunkedMasker.plan`; every column
    dropped; a planned column missing from the files; a cluster without
    :data:`CLUSTER_SECURITY_CONF`), UnknownOperator, SparkJobFailed.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    _check_cluster(spark)
    paths = [str(sources)] if isinstance(sources, str | Path) else [str(s) for s in sources]
    frame = _spark_call(lambda: spark.read.parquet(*paths))
    masker = ChunkedMasker(policy=policy, hash_key=hash_key)
    if profiles is not None:
        rules = masker.adopt(profiles)
        columns = [p.column for p in profiles]
    else:
        if first is None:
            first = _spark_call(lambda: frame.limit(sample_rows).toArrow())
            first = prepare(first) if prepare else first
        rules = masker.plan(first)
        columns = list(first.column_names)
    delivered = masker.output_columns(columns)
    if not delivered:
        raise InvalidMaskingPlan("the policy drops every column: nothing to write")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidMaskingPlan(f"the Parquet files lack the columns {missing}")
    counts = spark.sparkContext.accumulator({}, _CountsParam())
    job = MaskPartitions(masker, prepare, counts)
    _check_closure(job)
    schema = StructType([StructField(c, StringType()) for c in delivered])
    with _quiet():
        masked = frame.select(*[F.col(_quoted(c)) for c in columns]).mapInArrow(job, schema)
    _spark_call(lambda: masked.write.mode("errorifexists").parquet(str(output)))
    if counts.value:
        masker.add_counts(counts.value)
    rows = _spark_call(lambda: spark.read.parquet(str(output)).count())
    report = masker.report()
    if any(c.rows != rows for c in report):
        raise SparkJobFailed(f"the counts of the masked batches disagree with the {rows} rows "
                             "written (a task counted twice?)")
    return SparkMaskResult(rows=rows, output_columns=delivered, columns=report, rules=rules)


class MaskPartitions:
    """What ``mapInArrow`` runs on each partition: a planned masker's copy masks every batch
    (turned into a chunk by ``prepare``), and its counts are added to the accumulator.

    Pickled into the task closure with the plan and the key: ``repr`` shows neither.
    """

    def __init__(self, masker: ChunkedMasker, prepare: Callable[[pa.Table], pa.Table] | None,
                 counts: Any) -> None:
        self._masker, self._prepare, self._counts = masker, prepare, counts
        self._scrubs = any(r.operator == "scrub" for r in (masker.rules or {}).values())

    def __repr__(self) -> str:
        return f"MaskPartitions({len(self._masker.report())} columns)"

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if self._scrubs:  # (detection loaded only where a column is free text)
            from masking._batch import set_scrub_workers

            set_scrub_workers(1)  # Spark runs a Python worker per core: no forks inside one
        before = self._masker.counts()
        for batch in batches:
            chunk = pa.Table.from_batches([batch])
            masked = self._masker.mask(self._prepare(chunk) if self._prepare else chunk)
            yield from _text_table(masked).to_batches()
        after = self._masker.counts()
        self._counts.add({name: _minus(after[name], before[name]) for name in after})


def _minus(after: tuple[int, int, int | None],
           before: tuple[int, int, int | None]) -> tuple[int, int, int | None]:
    changed = None if after[2] is None else after[2] - (before[2] or 0)
    return after[0] - before[0], after[1] - before[1], changed


def _text_table(table: pa.Table) -> pa.Table:
    """Every column as Arrow ``string``, what the declared schema says."""
    return pa.table([c if c.type == pa.string() else pc.cast(c, pa.string())
                     for c in table.columns], names=table.column_names)


class _CountsParam:
    """How the accumulator adds ``{column: (rows, nulls, changed)}`` dictionaries, column by
    column (pyspark's ``AccumulatorParam`` protocol; ``changed`` None: a dropped column)."""

    def zero(self, value: dict) -> dict:
        return {}

    def addInPlace(self, total: dict, more: dict) -> dict:  # noqa: N802 (pyspark's name)
        for name, (rows, nulls, changed) in more.items():
            had = total.get(name, (0, 0, 0))
            total[name] = (had[0] + rows, had[1] + nulls,
                           None if changed is None else (had[2] or 0) + changed)
        return total


def _check_cluster(spark: SparkSession) -> None:
    conf = spark.sparkContext.getConf()
    if spark.sparkContext.master.startswith("local"):
        return
    off = [k for k, v in CLUSTER_SECURITY_CONF.items() if conf.get(k, "false").lower() != v]
    if off:
        raise InvalidMaskingPlan(f"the Spark cluster must run with {', '.join(off)} set to "
                                 "true before a pseudonym key or a row is sent to it")


def _check_closure(job: MaskPartitions) -> None:
    from pyspark.serializers import CloudPickleSerializer

    size = len(CloudPickleSerializer().dumps(job))
    if size > MAX_CLOSURE_BYTES:
        raise InvalidMaskingPlan(f"the masking plan pickles to {size:,} bytes, more than "
                                 f"{MAX_CLOSURE_BYTES:,}: Spark would broadcast it")


def _spark_call(call: Callable[[], Any], *,
                failed: str = "the Spark job failed ({}); see the Spark logs") -> Any:
    """``call()``, Spark's errors translated: govex's own error text from an executor, else
    ``failed`` naming only Spark's error condition."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        with _quiet():
            return call()
    except PySparkException as exc:
        ours = _OWN_ERROR.findall(str(exc))
        if ours:
            name, message = ours[-1]
            raise SparkJobFailed(f"{message} ({name}, on an executor)") from None
        raise SparkJobFailed(failed.format(exc.getCondition() or type(exc).__name__)) from None
    except Py4JError as exc:
        raise SparkJobFailed(failed.format(type(exc).__name__)) from None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        yield


def _quoted(column: str) -> str:
    return "`" + column.replace("`", "``") + "`"
