"""Authorization decision time with N grants: govex's enforcer against pycasbin's default.

    python benchmarks/authz.py [--grants 10000] [--decisions 5000]

Prints p50/p99 per decision for both, on the same model and policies, in one run. The anchor
is pycasbin's plain ``Enforcer`` (what a straightforward integration would use). Also what a
server pays per decision to see every other server's changes first: ``sync()`` (one read of
the change feed, SQLite file) + the decision, with nothing new and with one new grant each time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import casbin  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy_adapter import Base  # noqa: E402

from policies import Enforcer, metadata  # noqa: E402
from policies.enforcer import MODEL_TEXT, rfc3339  # noqa: E402

DEPTS = ["police", "civil", "health", "hotline", "market", "jinjiang", "audit"]
NOW = dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc)


def build(grants: int, tmp: Path) -> tuple[Enforcer, list[tuple]]:
    engine = sa.create_engine(f"sqlite:///{tmp}")
    Base.metadata.create_all(engine)
    metadata.create_all(engine)
    enforcer = Enforcer(engine)
    enforcer.sync()  # loads the policies
    for d in DEPTS:
        enforcer.add_department(d)
        enforcer.assign_role(f"{d}-requester", "requester", d)
        enforcer.assign_role(f"{d}-steward", "steward", d)
    rng = random.Random(7)
    rows = [(f"gr_{i:08x}", rng.choice(DEPTS), NOW + dt.timedelta(days=rng.randint(-30, 300)))
            for i in range(grants)]
    enforcer._casbin.model.add_policies("p", "p", [  # bulk load, then one save_policy
        ["requester", rec, f"grant:{gid}", "receive", rfc3339(until)] for gid, rec, until in rows])
    enforcer._casbin.save_policy()
    return enforcer, rows


def queries(rows: list[tuple], n: int) -> list[tuple]:
    rng = random.Random(11)
    out = []
    for _ in range(n):
        gid, rec, _ = rng.choice(rows)
        dept = rec if rng.random() < 0.7 else rng.choice(DEPTS)  # some from the wrong dept
        out.append((f"u:{dept}-requester", dept, f"grant:{gid}", "receive", rfc3339(NOW)))
    return out


def measure(enforce, qs: list[tuple]) -> tuple[list[float], list[bool]]:
    times, results = [], []
    for q in qs:
        t0 = time.perf_counter_ns()
        results.append(enforce(*q))
        times.append((time.perf_counter_ns() - t0) / 1000)
    return times, results


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--anchor-decisions", type=int, default=300)
    args = parser.parse_args()
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        enforcer, rows = build(args.grants, Path(tmp) / "authz.db")
        qs = queries(rows, args.decisions)
        # through govex's public API (lock, time formatting and all)
        fast_t, fast_r = measure(
            lambda sub, dom, obj, act, now: enforcer.may_receive(
                sub[2:], dom, obj[6:], now=NOW), qs)
        plain = casbin.Enforcer(casbin.Enforcer.new_model(text=MODEL_TEXT))
        for sec in ("p", "g"):
            for ptype, ast in enforcer._casbin.model.model[sec].items():
                plain.model.add_policies(sec, ptype, [list(r) for r in ast.policy])
        plain.build_role_links()
        anchor_qs = qs[: args.anchor_decisions]
        plain_t, plain_r = measure(plain.enforce, anchor_qs)

        def synced(sub: str, dom: str, obj: str, act: str, now: str) -> bool:
            enforcer.sync()
            return enforcer.may_receive(sub[2:], dom, obj[6:], now=NOW)
        sync_t, sync_r = measure(synced, qs[:1000])
        other = Enforcer(enforcer._engine)  # another server adding a grant before each one
        fresh = iter(range(10**9))

        def changed(sub: str, dom: str, obj: str, act: str, now: str) -> bool:
            other.allow_grant(f"gr_new{next(fresh)}", "civil", until=NOW)
            enforcer.sync()
            return enforcer.may_receive(sub[2:], dom, obj[6:], now=NOW)
        change_t, _ = measure(changed, qs[:300])
    assert plain_r == fast_r[: len(plain_r)], "the two enforcers disagree"
    print(f"authorization decisions, {args.grants:,} grants + role policies, {len(qs):,} "
          f"decisions ({sum(fast_r) / len(fast_r):.0%} allowed)")
    print(f"{'enforcer':<34}{'p50 µs':>10}{'p99 µs':>10}")
    print(f"{'govex (FastEnforcer, obj+dom)':<34}{pct(fast_t, 50):>10.1f}{pct(fast_t, 99):>10.1f}")
    print(f"{'pycasbin Enforcer (anchor)':<34}{pct(plain_t, 50):>10.1f}{pct(plain_t, 99):>10.1f}")
    print(f"{'sync (no change) + decision':<34}{pct(sync_t, 50):>10.1f}{pct(sync_t, 99):>10.1f}")
    print(f"{'write elsewhere + sync + decision':<34}{pct(change_t, 50):>10.1f}"
          f"{pct(change_t, 99):>10.1f}  (includes the other server's write)")
    assert sync_r == fast_r[:1000], "sync changed a decision"
    print(f"speed-up at p50: {pct(plain_t, 50) / pct(fast_t, 50):.0f}x; target p99 <= 200 µs: "
          f"{'met' if pct(fast_t, 99) <= 200 else 'NOT met'}")


if __name__ == "__main__":
    main()
