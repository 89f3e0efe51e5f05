"""PII detection and masking for tables handed from one department to another.

Detection is Presidio with Chinese recognizers (checksummed identifiers, jieba for names and
addresses), fully offline. A table is profiled once from a sample, then each column is masked
in bulk by one operator (keep, mask, redact, hash, generalize, drop, scrub).

>>> import pandas as pd
>>> from masking import profile_table, default_rules, mask_table, ColumnRule
>>> df = pd.DataFrame({"姓名": ["张伟"], "手机号": ["13812345678"],
...                    "备注": ["联系电话13812345678"]})
>>> rules = default_rules(profile_table(df))          # 姓名/手机号 -> mask, 备注 -> scrub
>>> rules["手机号"] = ColumnRule("hash", "CN_MOBILE")   # a steward's choice
>>> out = mask_table(df, rules, hash_key=recipient_key)  # doctest: +SKIP
>>> out["姓名"][0], out["备注"][0]                       # doctest: +SKIP
('张*', '联系电话138****5678')

A Parquet table beyond one machine is masked by Spark with the same plan and kernels
(``mask_parquet``, ``spark_session``: :mod:`masking.spark`, which needs ``govex[spark]``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Imported on first use (PEP 562): masking a table by a plan needs neither Presidio nor jieba,
# which take ~1.3 s to import; they load when something detects.
_HOMES = {
    "masking.errors": ("MaskingError", "UnknownOperator", "InvalidMaskingPlan", "SparkJobFailed"),
    "masking.recognizers": ("ENTITIES", "default_recognizers"),
    "masking.engine": ("build_analyzer",),
    "masking._jieba": ("configure_jieba",),
    "masking.operators": ("OPERATORS", "Operator", "MaskContext", "get_operator",
                          "operators_for"),
    "masking._batch": ("set_scrub_workers",),
    "masking.checksums": ("USCC_ALPHABET", "is_valid_luhn", "is_valid_resident_id",
                          "luhn_check_digit", "resident_id_check_char", "uscc_check_char"),
    "masking.profile": ("ColumnProfile", "profile_table"),
    "masking.table": ("ColumnRule", "default_rules", "mask_table"),
    "masking.stream": ("ChunkedMasker", "ColumnReport", "rules_from_policy"),
    "masking.text": ("Span", "detect_spans", "scrub_texts", "star_name_like_words"),
    "masking.log_text": ("loggable_text",),
    "masking.spark": ("CLUSTER_SECURITY_CONF", "SparkMaskResult", "mask_parquet", "open_spark",
                      "spark_session"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:
    from masking._batch import set_scrub_workers
    from masking._jieba import configure_jieba
    from masking.checksums import (
        USCC_ALPHABET,
        is_valid_luhn,
        is_valid_resident_id,
        luhn_check_digit,
        resident_id_check_char,
        uscc_check_char,
    )
    from masking.engine import build_analyzer
    from masking.errors import InvalidMaskingPlan, MaskingError, SparkJobFailed, UnknownOperator
    from masking.log_text import loggable_text
    from masking.operators import OPERATORS, MaskContext, Operator, get_operator, operators_for
    from masking.profile import ColumnProfile, profile_table
    from masking.recognizers import ENTITIES, default_recognizers
    from masking.spark import (
        CLUSTER_SECURITY_CONF,
        SparkMaskResult,
        mask_parquet,
        open_spark,
        spark_session,
    )
    from masking.stream import ChunkedMasker, ColumnReport, rules_from_policy
    from masking.table import ColumnRule, default_rules, mask_table
    from masking.text import Span, detect_spans, scrub_texts, star_name_like_words


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'masking' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "MaskingError",
    "UnknownOperator",
    "InvalidMaskingPlan",
    "SparkJobFailed",
    "ENTITIES",
    "default_recognizers",
    "build_analyzer",
    "configure_jieba",
    "OPERATORS",
    "Operator",
    "MaskContext",
    "get_operator",
    "operators_for",
    "set_scrub_workers",
    "USCC_ALPHABET",
    "is_valid_luhn",
    "is_valid_resident_id",
    "luhn_check_digit",
    "resident_id_check_char",
    "uscc_check_char",
    "ColumnProfile",
    "profile_table",
    "ColumnRule",
    "default_rules",
    "mask_table",
    "ChunkedMasker",
    "ColumnReport",
    "rules_from_policy",
    "Span",
    "detect_spans",
    "scrub_texts",
    "star_name_like_words",
    "loggable_text",
    "CLUSTER_SECURITY_CONF",
    "SparkMaskResult",
    "mask_parquet",
    "open_spark",
    "spark_session",
]
