"""How fast govex masks a table, against presidio-structured, Presidio's analyze and a bare pass.

    .venv/bin/python benchmarks/masking.py --rows 1000000 [--structured-rows 50000]
                                           [--presidio-texts 10000] [--workdir DIR]
                                           [--steps ids,full,text] [--repeat N]

One run, one generated table (seeded): 姓名, 身份证号, 手机号, 住址, 统一社会信用代码 and a
free-text 诉求内容 in which names, IDs, mobiles and addresses are planted (and remembered).
Every step runs in its own process (so its peak memory is its own) and goes file in -> file out:

- floor-*:      pyarrow reads the CSV, touches each string column once (utf8_upper), writes it;
- govex-*:      ``govex mask`` (the CLI, chunked) with no policy: profile, mask, scrub;
- structured:   presidio-structured (PandasAnalysisBuilder + StructuredEngine, the same offline
                analyzer and recognizers, object dtype, mask operator) on the first
                ``--structured-rows`` rows, scaled to rows/s;
- presidio-text: Presidio's own ``AnalyzerEngine.analyze`` on each complaint (same analyzer),
                spans masked, on the first ``--presidio-texts`` texts;
- presidio-jieba: the same, but names and places found as a Presidio user would first write it
                (the masking issue's "Presidio with jieba names", ~1,000 texts/s): one recognizer
                tagging every text with ``jieba.posseg`` (``nr`` -> PERSON, a run of ``ns`` ->
                LOCATION) in place of govex's name and address recognizers. For calibration: the
                target is set against ``presidio-text``;
- govex-text:   ``masking.scrub_texts`` on the whole complaint column (forked workers from
                8,000 texts on); govex-text1: the same in one process, the fair comparison with
                the one-process anchor. All text steps warm jieba first, outside the timing.

"*-ids" is the five identifier columns, "*-full" all six. Recall = share of planted values that
do not survive in the output text. Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IDS = ["姓名", "身份证号", "手机号", "住址", "统一社会信用代码"]
TEXT = "诉求内容"
TEMPLATES = (
    "市民{name}来电反映，其身份证号{id}，联系电话{mobile}，家住{addr}，楼下餐馆油烟扰民，请求处理。",
    "{name}反映{addr}所在小区物业擅自上调物业费，未经业主大会表决，请求查处。电话{mobile}。",
    "来电人{name}反映被拖欠工资共计3500元，包工头已失联，请求协调解决。本人身份证{id}。",
    "反映公交线路调整后出行不便，建议恢复原线路，早高峰7:30至8:30发车间隔约20分钟。",
    "投诉人{name}称网购订单号3208812345678901234的商品有质量问题，商家拒不退货，联系方式{mobile}",
    "{name}咨询为孩子首次办理居民身份证需要哪些材料，以及派出所户籍窗口周末是否办公。",
    "来电反映{addr}自11月3日起停水已超过48小时，事先未见停水通知，请尽快恢复供水。回拨{mobile}",
)


# --- the table ----------------------------------------------------------------------------


def generate(rows: int, workdir: Path, seed: int = 7) -> dict:
    """Write full.csv, ids.csv and labels.json (planted values per complaint) into workdir."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from faker import Faker

    from exchange.demo import data as d

    rng, fake = random.Random(seed), Faker("zh_CN")
    fake.seed_instance(seed)
    surnames = [fake.last_name() for _ in range(400)]
    given = [fake.first_name() for _ in range(600)]
    areas = list(d.DISTRICTS)

    def address() -> str:
        district, streets, _ = d.DISTRICTS[rng.choice(areas)]
        return (f"四川省成都市{district}{rng.choice(streets)}{rng.randint(1, 399)}号"
                f"{rng.randint(1, 24)}栋{rng.randint(1, 4)}单元"
                f"{rng.randint(1, 33)}0{rng.randint(1, 4)}室")

    def mobile() -> str:
        m = d.mobile_number(rng)
        return rng.choice((m, m, f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86 {m}",
                           f"{m[:3]} {m[3:7]} {m[7:]}"))

    columns: dict[str, list[str]] = {c: [] for c in [*IDS, TEXT]}
    labels: list[list[str]] = []
    for _ in range(rows):
        columns["姓名"].append(rng.choice(surnames) + rng.choice(given))
        columns["身份证号"].append(d.resident_id(rng))
        columns["手机号"].append(d.mobile_number(rng))
        columns["住址"].append(address())
        columns["统一社会信用代码"].append(d.credit_code(rng, new_style=rng.random() < 0.8))
        planted = {"name": rng.choice(surnames) + rng.choice(given), "id": d.resident_id(rng),
                   "mobile": mobile(), "addr": address()}
        template = rng.choice(TEMPLATES)
        columns[TEXT].append(template.format(**planted))
        labels.append([v for k, v in planted.items() if "{" + k + "}" in template])
    table = pa.table(columns)
    pacsv.write_csv(table, workdir / "full.csv")
    pacsv.write_csv(table.select(IDS), workdir / "ids.csv")
    (workdir / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    return {"rows": rows, "planted": sum(map(len, labels)),
            "bytes_full": (workdir / "full.csv").stat().st_size}


# --- steps, each in its own process -------------------------------------------------------


def step_floor(workdir: Path, name: str) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    source = workdir / f"{name}.csv"
    names = pacsv.read_csv(source, read_options=pacsv.ReadOptions(block_size=1 << 16)).column_names
    table = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}))
    touched = pa.table([pc.utf8_upper(table.column(n)) for n in names], names=names)
    pacsv.write_csv(touched, workdir / f"floor-{name}.out.csv")
    return {"rows": table.num_rows}


def step_govex(workdir: Path, name: str) -> dict:
    from exchange.cli import cli

    out = workdir / f"govex-{name}.out.csv"
    cli.main(["mask", str(workdir / f"{name}.csv"), "-o", str(out), "--no-progress",
              "--home", str(workdir / "home"), "--report", str(workdir / f"govex-{name}.json")],
             standalone_mode=False)
    report = json.loads((workdir / f"govex-{name}.json").read_text(encoding="utf-8"))
    return {"rows": report["rows"],
            "plan": {c["column"]: f"{c['operator']}:{c['entity'] or c['kind']}"
                     for c in report["columns"]}}


def step_structured(workdir: Path, rows: int) -> dict:
    import pandas as pd
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasAnalysisBuilder, StructuredEngine

    from masking import build_analyzer

    analyzer = build_analyzer(cache_dir=workdir / "home" / "cache")
    df = pd.read_csv(workdir / "ids.csv", dtype=str, nrows=rows, keep_default_na=False)
    df = df.astype(object)  # its fastest setting: Arrow strings make df.at writes ~30x slower
    start = time.perf_counter()
    analysis = PandasAnalysisBuilder(analyzer=analyzer).generate_analysis(
        df, n=min(200, len(df)), language="zh")
    masked = StructuredEngine().anonymize(df, analysis, operators={"DEFAULT": OperatorConfig(
        "mask", {"masking_char": "*", "chars_to_mask": 8, "from_end": True})})
    masked.to_csv(workdir / "structured.out.csv", index=False)
    # for reading only (the ratio is end to end): how much of its time is not start-up
    return {"rows": len(df), "plan": dict(analysis.entity_mapping),
            "after_setup_seconds": time.perf_counter() - start}


def _recall(texts: list[str], labels: list[list[str]]) -> dict:
    planted = sum(len(values) for values in labels)
    survived = sum(1 for text, values in zip(texts, labels) for v in values if v in text)
    return {"planted": planted, "survived": survived,
            "recall": round(1 - survived / planted, 5) if planted else None}


#: Makes jieba load its dictionary (and every recognizer compile) before a text step's timing:
#: a long job pays that once. (The name after 市民 is settled without jieba; 陈峰咨询 needs it.)
WARM_UP = "市民张伟来电，陈峰咨询，来电反映四川省成都市锦江区春熙路1号，电话13812345678"


def step_presidio_text(workdir: Path, texts: int) -> dict:
    from masking import build_analyzer

    return _presidio_analyze(build_analyzer(cache_dir=workdir / "home" / "cache"), workdir, texts)


def _presidio_analyze(analyzer, workdir: Path, texts: int) -> dict:  # noqa: ANN001
    """``analyzer.analyze`` on each of the first ``texts`` complaints (warmed up first), every
    span starred: the anchors' loop."""
    import pyarrow.csv as pacsv

    analyzer.analyze(WARM_UP, language="zh")
    column = pacsv.read_csv(workdir / "full.csv").column(TEXT).to_pylist()[:texts]
    labels = json.loads((workdir / "labels.json").read_text(encoding="utf-8"))[:texts]
    start = time.perf_counter()
    out = []
    for text in column:
        chars = list(text)
        for r in analyzer.analyze(text, language="zh"):
            chars[r.start:r.end] = "*" * (r.end - r.start)
        out.append("".join(chars))
    seconds = time.perf_counter() - start
    return {"rows": len(column), "inner_seconds": seconds, **_recall(out, labels)}


def _jieba_pos_analyzer(cache_dir: Path):
    """An analyzer with govex's pattern recognizers and a plain jieba part-of-speech recognizer
    for names and places (the usual first attempt; see the module docstring)."""
    import jieba
    import jieba.posseg
    from presidio_analyzer import (
        AnalyzerEngine,
        EntityRecognizer,
        RecognizerRegistry,
        RecognizerResult,
    )
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from masking.engine import SCORE_THRESHOLD
    from masking.recognizers import PATTERN_RECOGNIZERS, WindowContextEnhancer
    from masking.recognizers._lexicon import configure_jieba

    class JiebaPosRecognizer(EntityRecognizer):
        def __init__(self) -> None:
            super().__init__(supported_entities=["PERSON", "LOCATION"], supported_language="zh",
                             name="JiebaPosRecognizer")

        def load(self) -> None:
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            results, at, place = [], 0, None
            for word, flag in jieba.posseg.cut(text):
                end = at + len(word)
                if flag == "ns":
                    place = (place[0], end) if place else (at, end)
                else:
                    if place:
                        results.append(RecognizerResult("LOCATION", *place, 0.85))
                        place = None
                    if flag == "nr" and len(word) >= 2:
                        results.append(RecognizerResult("PERSON", at, end, 0.85))
                at = end
            if place:
                results.append(RecognizerResult("LOCATION", *place, 0.85))
            return results

    configure_jieba(cache_dir)
    nlp = NoOpNlpEngine(models=[{"lang_code": "zh", "model_name": "none"}])
    nlp.load()
    recognizers = [cls(supported_language="zh") for cls in PATTERN_RECOGNIZERS]
    registry = RecognizerRegistry(recognizers=[*recognizers, JiebaPosRecognizer()],
                                  supported_languages=["zh"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["zh"],
                          default_score_threshold=SCORE_THRESHOLD,
                          context_aware_enhancer=WindowContextEnhancer())


def step_presidio_jieba(workdir: Path, texts: int) -> dict:
    return _presidio_analyze(_jieba_pos_analyzer(workdir / "home" / "cache"), workdir, texts)


def step_govex_text(workdir: Path, texts: int, *, one_process: bool = False) -> dict:
    import pyarrow.csv as pacsv

    from masking import build_analyzer, scrub_texts, set_scrub_workers

    if one_process:
        set_scrub_workers(1)
    analyzer = build_analyzer(cache_dir=workdir / "home" / "cache")
    scrub_texts([WARM_UP], analyzer=analyzer)
    column = pacsv.read_csv(workdir / "full.csv").column(TEXT).to_pylist()[:texts]
    labels = json.loads((workdir / "labels.json").read_text(encoding="utf-8"))[:texts]
    start = time.perf_counter()
    out = scrub_texts(column, analyzer=analyzer)
    seconds = time.perf_counter() - start
    return {"rows": len(column), "inner_seconds": seconds, **_recall(out, labels)}


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries a forked
    parent's ru_maxrss into the child, which would charge every step with the generator's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_step(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    start = time.perf_counter()
    kind, _, name = args.step.partition(":")
    result = {
        "floor": lambda: step_floor(workdir, name),
        "govex": lambda: step_govex(workdir, name),
        "structured": lambda: step_structured(workdir, int(name)),
        "presidio-text": lambda: step_presidio_text(workdir, int(name)),
        "presidio-jieba": lambda: step_presidio_jieba(workdir, int(name)),
        "govex-text": lambda: step_govex_text(workdir, int(name)),
        "govex-text1": lambda: step_govex_text(workdir, int(name), one_process=True),
    }[kind]()
    result["seconds"] = time.perf_counter() - start
    result["peak_mb"] = _peak_rss_mb()
    result["load"] = os.getloadavg()[0]
    print(json.dumps(result, ensure_ascii=False))


# --- the run ------------------------------------------------------------------------------


def _spawn(step: str, workdir: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--step", step, "--workdir", str(workdir)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"step {step} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="govex-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "home").mkdir(exist_ok=True)
    start = time.perf_counter()
    info = _generated(args.rows, workdir)
    print(f"{info['rows']} rows ({info['bytes_full'] / 1e6:.0f} MB CSV, {info['planted']} "
          f"planted values) in {time.perf_counter() - start:.0f} s -> {workdir}", flush=True)
    structured_rows = min(args.rows, args.structured_rows)
    presidio_texts = min(args.rows, args.presidio_texts)
    groups = {
        "ids": ["floor:ids", "govex:ids", f"structured:{structured_rows}"],
        "full": ["floor:full", "govex:full"],
        "text": list(dict.fromkeys([f"presidio-text:{presidio_texts}",
                                    f"presidio-jieba:{presidio_texts}",
                                    f"govex-text1:{presidio_texts}", f"govex-text1:{args.rows}",
                                    f"govex-text:{args.rows}"])),
    }
    steps = [s for group in args.steps.split(",") for s in groups[group]]
    results: dict[str, list[dict]] = {}
    for step in steps * args.repeat:  # round after round, so every step sees the same load
        r = _spawn(step, workdir)
        results.setdefault(step, []).append(r)
        rate = r["rows"] / r.get("inner_seconds", r["seconds"])
        extra = f"  recall {r['recall']:.4f} ({r['survived']}/{r['planted']} survived)" \
            if "recall" in r else ""
        print(f"{step:<24} {r['rows']:>9} rows {r['seconds']:8.2f} s {rate:>11,.0f} /s "
              f"peak {r['peak_mb']:7.0f} MB  load {r['load']:.2f}{extra}", flush=True)
    medians = {step: _median_run(runs) for step, runs in results.items()}
    _ratios(medians, structured_rows, presidio_texts, args.rows)
    if "govex:ids" in results:
        _round_ratios(results, f"structured:{structured_rows}")
    if f"govex-text:{args.rows}" in results:
        _round_text_ratios(results, presidio_texts, args.rows)
    (workdir / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))


def _generated(rows: int, workdir: Path) -> dict:
    """The table of ``rows`` rows in workdir: generated, or reused from an earlier run."""
    meta = workdir / "table.json"
    if meta.exists() and json.loads(meta.read_text())["rows"] == rows:
        return json.loads(meta.read_text())
    info = generate(rows, workdir)
    meta.write_text(json.dumps(info))
    return info


def _median_run(runs: list[dict]) -> dict:
    """The run of median time (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda r: r.get("inner_seconds", r["seconds"]))
    return ordered[(len(ordered) - 1) // 2]


def _ratios(results: dict, structured_rows: int, presidio_texts: int, rows: int) -> None:
    def rate(step: str) -> float:
        r = results[step]
        return r["rows"] / r.get("inner_seconds", r["seconds"])

    print("medians:", ", ".join(f"{step} {rate(step):,.0f}/s" for step in results))
    if "govex:ids" in results:
        print(f"plan govex:ids   {results['govex:ids']['plan']}")
        print(f"plan structured  {results[f'structured:{structured_rows}']['plan']}")
        print(f"identifier columns: govex "
              f"{rate('govex:ids') / rate(f'structured:{structured_rows}'):.1f}x "
              f"presidio-structured; bare pyarrow pass "
              f"{rate('floor:ids') / rate('govex:ids'):.2f}x govex")
    if "govex:full" in results:
        print(f"whole table: bare pyarrow pass "
              f"{rate('floor:full') / rate('govex:full'):.1f}x govex")
    if f"govex-text:{rows}" in results:
        anchor = rate(f"presidio-text:{presidio_texts}")
        one, workers = rate(f"govex-text1:{rows}"), rate(f"govex-text:{rows}")
        same = rate(f"govex-text1:{presidio_texts}")
        print(f"free text vs Presidio analyze: govex one process {one / anchor:.1f}x, with workers "
              f"{workers / anchor:.1f}x (same {presidio_texts} texts, one process: "
              f"{same / anchor:.1f}x)")
        if f"presidio-jieba:{presidio_texts}" in results:
            plain = rate(f"presidio-jieba:{presidio_texts}")
            print(f"calibration: Presidio with plain jieba names and places {plain:,.0f} texts/s, "
                  f"recall {results[f'presidio-jieba:{presidio_texts}']['recall']}; govex one "
                  f"process {one / plain:.1f}x, with workers {workers / plain:.1f}x")


def _round_ratios(results: dict, structured: str) -> None:
    """The identifier-column ratios of each round (steps of a round ran back to back)."""
    def rate(r: dict) -> float:
        return r["rows"] / r["seconds"]

    rounds = zip(results["floor:ids"], results["govex:ids"], results[structured])
    print("per round (govex / presidio-structured, bare pass / govex):", ", ".join(
        f"{rate(g) / rate(s):.1f}x {rate(f) / rate(g):.2f}x" for f, g, s in rounds))


def _round_text_ratios(results: dict, presidio_texts: int, rows: int) -> None:
    """The free-text ratios of each round: one process, with workers, on the anchor's texts."""
    def rate(r: dict) -> float:
        return r["rows"] / r["inner_seconds"]

    rounds = zip(results[f"presidio-text:{presidio_texts}"], results[f"govex-text1:{rows}"],
                 results[f"govex-text:{rows}"], results[f"govex-text1:{presidio_texts}"])
    print("per round (govex / Presidio analyze: one process, workers, same texts):", ", ".join(
        f"{rate(o) / rate(p):.1f}x {rate(w) / rate(p):.1f}x {rate(s) / rate(p):.1f}x"
        for p, o, w, s in rounds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--structured-rows", type=int, default=50_000)
    parser.add_argument("--presidio-texts", type=int, default=10_000)
    parser.add_argument("--workdir", help="reuses the table already generated there")
    parser.add_argument("--steps", default="ids,full,text",
                        help="comma-separated groups to run: ids, full, text (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the steps (medians)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    run_step(parsed) if parsed.step else main(parsed)
