"""The Spark engine (``govex mask --engine spark``, local[2]) against the single-process path
(``govex mask``) on the same generated Parquet file.

    .venv/bin/python benchmarks/spark.py --rows 500000 [--repeat 3] [--workdir DIR]
                                         [--master local[2]]

One seeded table: 姓名, 身份证号, 手机号, 住址, 金额 (a float column) — a resident registry without
free text (scrubbing would dominate every figure), one Parquet file in row groups of 50,000
rows (so Spark splits it over both cores); policy 身份证号 hash, 手机号 hash, the rest profiled
(姓名 and 住址 mask, 金额 keep), one recipient key. Each engine runs in its own process:

- local:  ``govex mask`` (the CLI, in-process) once to warm up (imports), then ``--repeat``
          times;
- spark:  a session is started (timed apart: the JVM), then ``govex mask --engine spark`` runs
          once to warm up (it starts Spark's Python workers) and ``--repeat`` times more;
- spark-cli: one ``govex mask --engine spark`` in a fresh process, end to end, JVM included.

Prints each run, the medians of the runs after the warm-up, rows/s and the ratio, and whether
both engines delivered the same rows (compared sorted). Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
POLICY = {"身份证号": "hash", "手机号": "hash"}
RECIPIENT = "civil"
SECRET = "benchmark-instance-secret-0123456789"


def generate(rows: int, path: Path, seed: int = 7) -> None:
    """The benchmark table as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from exchange.demo import data as d

    rng = random.Random(seed)
    areas = list(d.DISTRICTS)

    def address() -> str:
        district, streets, _ = d.DISTRICTS[rng.choice(areas)]
        return (f"四川省成都市{district}{rng.choice(streets)}{rng.randint(1, 399)}号"
                f"{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}0"
                f"{rng.randint(1, 4)}室")

    table = pa.table({
        "姓名": [rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
               for _ in range(rows)],
        "身份证号": [d.resident_id(rng) for _ in range(rows)],
        "手机号": [d.mobile_number(rng) for _ in range(rows)],
        "住址": [address() for _ in range(rows)],
        "金额": [round(rng.uniform(0, 20_000), 2) for _ in range(rows)],
    })
    pq.write_table(table, path, row_group_size=50_000)


def _mask_args(workdir: Path, output: Path, *extra: str) -> list[str]:
    return ["mask", str(workdir / "table.parquet"), "-o", str(output), "--policy",
            str(workdir / "policy.json"), "--recipient", RECIPIENT, "--home",
            str(workdir / "home"), "--no-progress", *extra]


def _timed_cli(args: list[str]) -> float:
    from exchange.cli import cli

    start = time.perf_counter()
    cli.main(args, standalone_mode=False)
    return time.perf_counter() - start


def step_local(workdir: Path, repeat: int) -> dict[str, Any]:
    seconds = []
    for run in range(repeat + 1):
        output = workdir / f"local-{run}.parquet"
        seconds.append(_timed_cli(_mask_args(workdir, output)))
    return {"seconds": seconds}


def step_spark(workdir: Path, repeat: int, master: str) -> dict[str, Any]:
    from masking import spark_session

    start = time.perf_counter()
    spark = spark_session(master)
    session = time.perf_counter() - start
    seconds = []
    try:
        for run in range(repeat + 1):
            output = workdir / f"spark-{run}"
            seconds.append(_timed_cli(_mask_args(workdir, output, "--engine", "spark",
                                                 "--spark-master", master)))
    finally:
        spark.stop()
    return {"session_seconds": session, "seconds": seconds}


def step_spark_cli(workdir: Path, master: str) -> dict[str, Any]:
    return {"seconds": [_timed_cli(_mask_args(workdir, workdir / "spark-cli", "--engine",
                                              "spark", "--spark-master", master))]}


def _same_rows(local: Path, spark: Path) -> bool:
    import pyarrow.parquet as pq

    a, b = pq.read_table(local), pq.read_table(spark)
    if a.column_names != b.column_names or a.num_rows != b.num_rows:
        return False
    keys = [(name, "ascending") for name in a.column_names]
    return a.sort_by(keys).equals(b.sort_by(keys))


def _in_process(step: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--step", step, "--workdir", str(workdir),
               "--repeat", str(args.repeat), "--master", args.master]
    env = {"GOVEX_SECRET": SECRET, "PATH": "/usr/bin:/bin", "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(command, check=True, capture_output=True, text=True,
                          env={**_base_env(), **env})
    return json.loads(done.stdout.strip().splitlines()[-1])


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k in ("HOME", "JAVA_HOME", "PYTHONPATH",
                                                          "LANG", "TMPDIR")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        steps = {"local": lambda: step_local(args.workdir, args.repeat),
                 "spark": lambda: step_spark(args.workdir, args.repeat, args.master),
                 "spark-cli": lambda: step_spark_cli(args.workdir, args.master)}
        print(json.dumps(steps[args.step]()))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="govex-spark-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "home").mkdir(exist_ok=True)
    (workdir / "policy.json").write_text(json.dumps(POLICY), encoding="utf-8")
    start = time.perf_counter()
    generate(args.rows, workdir / "table.parquet")
    print(f"{args.rows:,} rows generated in {time.perf_counter() - start:.1f} s "
          f"({(workdir / 'table.parquet').stat().st_size / 1e6:.1f} MB Parquet) in {workdir}")
    results = {step: _in_process(step, workdir, args) for step in ("local", "spark", "spark-cli")}
    local, spark = results["local"]["seconds"], results["spark"]["seconds"]
    local_median, spark_median = statistics.median(local[1:]), statistics.median(spark[1:])
    end_to_end = results["spark-cli"]["seconds"][0]
    print(f"local      warm-up {local[0]:.2f} s; runs {_runs(local[1:])}; median "
          f"{local_median:.2f} s = {args.rows / local_median:,.0f} rows/s")
    print(f"spark      session start {results['spark']['session_seconds']:.2f} s; warm-up "
          f"{spark[0]:.2f} s; runs {_runs(spark[1:])}; median {spark_median:.2f} s = "
          f"{args.rows / spark_median:,.0f} rows/s")
    print(f"spark-cli  one fresh process, JVM and workers included: {end_to_end:.2f} s = "
          f"{args.rows / end_to_end:,.0f} rows/s")
    print(f"ratio of rows/s, spark / local: {local_median / spark_median:.2f} (medians); "
          f"fresh process against the local median: {local_median / end_to_end:.2f}")
    print(f"same rows (sorted): {_same_rows(workdir / 'local-0.parquet', workdir / 'spark-0')}")


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)


if __name__ == "__main__":
    main()
