"""A server-side delivery (chunked, through the encrypted store) against ``govex mask`` on the same
file, and against the whole-file path the delivery took before.

    .venv/bin/python benchmarks/delivery.py --rows 1000000 [--chunk-rows 100000]
                                            [--format csv] [--workdir DIR] [--steps ...]
                                            [--postgresql]

One generated table (seeded): 姓名, 身份证号, 手机号, 出生日期, 金额 (no free text: scrubbing would
dominate every figure), published to a fresh instance (so the payload is encrypted in its store),
and one grant: 姓名 mask, 身份证号 hash, 手机号 mask, 出生日期 generalize, 金额 keep. Every step
runs in its own process, after a warm-up on 100 rows (imports, analyzer), and reports rows/s, its
peak RSS and how far the peak rose above the RSS before the step:

- delivery:   ``exchange.usecases.delivery.deliver`` (read and decrypt in chunks, mask, write
              encrypted and hashed as it goes, append to the audit log, sign the receipt);
- whole-file: what the delivery did before: decrypt the whole payload, ``read_table``,
              ``mask_table``, ``write_table``, seal the result in one piece;
- govex-mask: ``govex mask`` on the plaintext file with the same rules and recipient key.

Not a test: figures to read. ``same bytes`` says whether the delivered file is byte for byte
what ``govex mask`` wrote (CSV/JSON Lines).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PLAN = {"姓名": "mask", "身份证号": "hash", "手机号": "mask", "出生日期": "generalize",
        "金额": "keep"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
WARM_ROWS = 100
RECEIVER = "tax"


def table_bytes(rows: int, *, fmt: str = "csv", seed: int = 7) -> bytes:
    """The benchmark table: ``rows`` generated rows in ``fmt``."""
    import datetime as dt

    import pandas as pd

    from catalog import formats
    from exchange.demo.data import mobile_number, resident_id

    rng = random.Random(seed)
    births = [dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000)) for _ in range(rows)]
    frame = pd.DataFrame({
        "姓名": [rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
               for _ in range(rows)],
        "身份证号": [resident_id(rng, birth=b) for b in births],
        "手机号": [mobile_number(rng) for _ in range(rows)],
        "出生日期": [b.isoformat() for b in births],
        "金额": [f"{rng.randrange(100, 100_000)}.{rng.randrange(100):02d}" for _ in range(rows)],
    })
    return formats.write_table(frame, fmt=fmt)


def build_instance(home: Path, files: dict[str, bytes],
                   database_url: str | None = None) -> dict[str, str]:
    """A fresh instance in ``home``: departments civil (provider) and tax, a steward and a
    requester, each of ``files`` ({name: bytes}) published and granted to tax with
    :data:`PLAN`. Returns {file name: grant id}."""
    from exchange.auth import Principal
    from exchange.services import Services
    from exchange.usecases.access import approve, create_request
    from exchange.usecases.admin import create_user, ensure_department, init_instance
    from exchange.usecases.publishing import publish

    settings = _settings(home, database_url)
    init_instance(settings)
    svc = Services(settings)
    for code, name in (("civil", "民政局"), (RECEIVER, "税务局")):
        ensure_department(svc, code, name, code)
    for user, dept, role in (("civil-steward", "civil", "steward"),
                             ("tax-requester", RECEIVER, "requester")):
        create_user(svc, username=user, password="bench-" + user, role=role, department=dept)
    steward = Principal("civil-steward", "", "civil", "steward")
    requester = Principal("tax-requester", "", RECEIVER, "requester")
    grants = {}
    for filename, data in files.items():
        dataset = publish(svc, steward, filename=filename, data=data, metadata={
            "title": filename, "sharing": "conditional", "level": "L2",
            "confirm_personal_data": True})
        request = create_request(svc, requester, dataset_id=dataset["id"], purpose="benchmark",
                                 columns=list(PLAN))
        grants[filename] = approve(svc, steward, request["id"], masking=PLAN)["grant_id"]
    svc.engine.dispose()
    return grants


def _settings(home: Path, database_url: str | None = None) -> Any:
    from exchange.config import load_settings
    return load_settings({"home": home, "max_upload_bytes": 1 << 34, "max_upload_rows": 10**9,
                          "database_url": database_url}, environ={})


# --- measuring, in the child process ---------------------------------------------------------


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc/self/status."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def reset_peak() -> None:
    """Start the peak RSS (VmHWM) afresh from the current RSS (Linux 4.0+)."""
    Path("/proc/self/clear_refs").write_text("5")


def measured(step: Any) -> dict[str, Any]:
    """Run ``step()`` (returns rows) with its time and peak RSS growth."""
    import gc
    gc.collect()
    reset_peak()
    before, _ = rss_mb()
    start = time.perf_counter()
    rows, digest = step()
    seconds = time.perf_counter() - start
    _, peak = rss_mb()
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds, "peak_mb": peak,
            "rise_mb": peak - before, "sha256": digest}


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One step, measured after a warm-up on the small file."""
    home, big, small = Path(args.home), args.big, args.small
    if args.child == "govex-mask":
        return _govex_mask(home, Path(args.workdir), big=big, small=small, chunk=args.chunk_rows)
    from exchange.auth import Principal
    from exchange.services import Services

    grants = json.loads((home / "bench-grants.json").read_text())
    svc = Services(_settings(home, args.database_url), delivery_chunk_rows=args.chunk_rows)
    who = Principal("tax-requester", "", RECEIVER, "requester")
    run = _deliver if args.child == "delivery" else _whole_file
    run(svc, who, grants[small], args.format)
    return measured(lambda: run(svc, who, grants[big], args.format))


def _deliver(svc: Any, who: Any, grant_id: str, fmt: str) -> tuple[int, str]:
    from exchange.usecases.delivery import deliver
    done = deliver(svc, who, grant_id, fmt=fmt)
    return done["row_count"], done["sha256"]


def _whole_file(svc: Any, who: Any, grant_id: str, fmt: str) -> tuple[int, str]:
    """The delivery's masking and writing as it was before chunks (no audit, no receipt)."""
    from catalog import _crypto, formats, repository
    from masking import ColumnRule, mask_table
    from policies import workflow

    with svc.reader.connect() as conn:
        grant = workflow.get_grant(conn, grant_id)
        dataset = repository.get_dataset(conn, grant.dataset_id)
    frame = formats.read_table(svc.store.get(dataset.version.sha256), fmt=dataset.version.format)
    entities = {c["name"]: (c.get("profile") or {}).get("entity") for c in dataset.version.columns}
    rules = {c: ColumnRule(op, entities.get(c)) for c, op in grant.masking.items()}
    masked = mask_table(frame[list(grant.columns)], rules,
                        hash_key=svc.master.pseudonym_key(grant.receiver),
                        analyzer=svc.analyzer())
    data = formats.write_table(masked, fmt=fmt)
    digest = hashlib.sha256(data).hexdigest()
    _crypto.seal(bytes(32), data, aad=digest.encode())
    return len(masked), digest


def _govex_mask(home: Path, workdir: Path, *, big: str, small: str, chunk: int) -> dict:
    from exchange.cli import cli

    policy = workdir / "policy.json"
    policy.write_text(json.dumps(PLAN), encoding="utf-8")

    def run(name: str) -> tuple[int, str]:
        out = workdir / f"masked-{name}"
        out.unlink(missing_ok=True)
        cli.main(["mask", str(workdir / name), "-o", str(out), "--policy", str(policy),
                  "--recipient", RECEIVER, "--home", str(home), "--chunk-rows", str(chunk),
                  "--no-progress"], standalone_mode=False)
        rows = sum(1 for _ in out.open("rb")) - 1 if out.suffix in (".csv", ".jsonl") else -1
        return rows, hashlib.sha256(out.read_bytes()).hexdigest()

    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        run(small)
        return measured(lambda: run(big))


# --- the parent -------------------------------------------------------------------------------


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[str | None]:
    """None (SQLite in the instance's home), or a new database on a throwaway cluster."""
    if not args.postgresql:
        yield None
        return
    from tests.conftest import create_database, throwaway_cluster

    with throwaway_cluster(fsync=True) as admin:
        yield create_database(admin)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--format", default="csv", choices=["csv", "jsonl", "parquet"])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--steps", default="delivery,whole-file,govex-mask")
    parser.add_argument("--postgresql", action="store_true",
                        help="the instance on a throwaway PostgreSQL cluster (fsync on)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--big", help=argparse.SUPPRESS)
    parser.add_argument("--small", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    with tempfile.TemporaryDirectory(prefix="govex-bench-") as tmp, _database(args) as url:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        big, small = f"big-{args.rows}.{args.format}", f"small.{args.format}"
        files = {big: table_bytes(args.rows, fmt=args.format),
                 small: table_bytes(WARM_ROWS, fmt=args.format, seed=8)}
        for name, data in files.items():
            (workdir / name).write_bytes(data)
        home = workdir / "home"
        start = time.perf_counter()
        grants = build_instance(home, files, url)
        (home / "bench-grants.json").write_text(json.dumps(grants))
        print(f"{args.rows} rows, {len(files[big]) / 2**20:.1f} MB {args.format}, "
              f"chunks of {args.chunk_rows} rows; {'PostgreSQL' if url else 'SQLite'}; "
              f"published in {time.perf_counter() - start:.1f} s")
        results = {}
        for step in args.steps.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--child", step, "--home", str(home), "--big", big,
                 "--small", small, "--workdir", str(workdir), "--format", args.format,
                 "--chunk-rows", str(args.chunk_rows)] + (["--database-url", url] if url else []),
                check=True, capture_output=True, text=True)
            results[step] = json.loads(out.stdout.strip().splitlines()[-1])
            r = results[step]
            print(f"  {step:<11} {r['rows_per_s']:>10,.0f} rows/s  {r['seconds']:6.1f} s  "
                  f"peak RSS {r['peak_mb']:6.0f} MB  (+{r['rise_mb']:.0f} MB during the step)")
        if "delivery" in results and "govex-mask" in results and args.format != "parquet":
            same = results["delivery"]["sha256"] == results["govex-mask"]["sha256"]
            print(f"  same bytes as govex mask: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
