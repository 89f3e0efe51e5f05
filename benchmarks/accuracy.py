"""Print how accurately govex finds and masks PII on the project's labeled evaluation set.

    .venv/bin/python benchmarks/accuracy.py [--cases 4000] [--seed 11] [--show 10]

The set (``masking.evaluation``) is seeded: Chinese and English sentences with identifiers
planted at known places, identifier columns with headers, and hard negatives (order numbers,
IDs with a wrong check character, timestamps, amounts, area and postal codes, ticket numbers).
Per entity: precision and recall of the detected spans in sentences. Overall: the share of
planted values that survive masking verbatim (sentences and columns) and the share of hard
negatives that masking altered. Not a test: tests/masking/test_accuracy.py asserts the floors.

The set is the team's own. Then, on text nobody here wrote, the share of clean sentences that
masking alters: Chinese interface messages from the machine's zh_CN gettext catalogs (Debian's
translators), where there are any.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from masking import build_analyzer
from masking.evaluation import evaluate, generate_cases


def main(args: argparse.Namespace) -> None:
    cases, columns = generate_cases(args.cases, seed=args.seed)
    start = time.perf_counter()
    scores = evaluate(cases, columns, analyzer=build_analyzer())
    seconds = time.perf_counter() - start
    print(f"{len(cases)} sentences, {len(columns)} columns x {len(columns[0].values)} values, "
          f"seed {args.seed}, {seconds:.1f} s")
    print(f"{'entity':<18}{'precision':>10}{'recall':>9}{'tp':>7}{'fp':>6}{'fn':>6}")
    for entity, s in scores.per_entity().items():
        print(f"{entity:<18}{s['precision']:>10.4f}{s['recall']:>9.4f}{s['tp']:>7}{s['fp']:>6}{s['fn']:>6}")
    print(f"planted values surviving masking: {scores.survived}/{scores.planted} "
          f"= {scores.survival_rate:.3%}")
    print(f"hard negatives altered:           {scores.negatives_altered}/{scores.negatives} "
          f"= {scores.negatives_altered_rate:.3%}")
    for entity, value in scores.survivors[:args.show]:
        print(f"  survived {entity}: {value}")
    for value in scores.altered[:args.show]:
        print(f"  altered negative: {value}")
    clean_text_damage(args.clean_texts, args.show)


def clean_text_damage(count: int, show: int) -> None:
    """Share of clean Chinese sentences that nobody here wrote which masking alters: the
    machine's zh_CN gettext catalogs (Debian's translators' interface messages: no personal
    data in them, apart from the odd translator credit). Skipped where there are none."""
    import gettext
    import glob
    import random
    import re

    from masking import scrub_texts

    messages: set[str] = set()
    for path in sorted(glob.glob("/usr/share/locale/zh_CN/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as file:
                catalog = gettext.GNUTranslations(file)._catalog  # noqa: SLF001
        except (OSError, ValueError):
            continue
        messages.update(v.strip() for v in catalog.values()
                        if isinstance(v, str) and re.search(r"[\u4e00-\u9fff]{4}", v)
                        and len(v) < 300)
    if not messages:
        print("clean text nobody here wrote: no zh_CN gettext catalogs on this machine")
        return
    sample = sorted(messages)
    random.Random(5).shuffle(sample)
    sample = sample[:count]
    masked = scrub_texts(sample, analyzer=build_analyzer())
    altered = [(m, o) for m, o in zip(sample, masked) if m != o]
    print(f"clean interface messages (zh_CN gettext catalogs) altered: "
          f"{len(altered)}/{len(sample)} = {len(altered) / len(sample):.2%}")
    for message, out in altered[:show]:
        print(f"  altered: {message[:60]!r} -> {out[:60]!r}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--show", type=int, default=10)
    parser.add_argument("--clean-texts", type=int, default=5000,
                        help="clean interface messages to measure damage on (0: skip)")
    main(parser.parse_args())
