"""What a person reads when the exchange refuses something: one code per kind of problem, its
English text here, its Chinese in the pages' catalog (``web/translations/zh``), the same words
in the API's ``message``, on the pages and in the CLI (which sends its locale).

An error names its problem by code (``InvalidInput("...", code="purpose_required",
field="purpose")``; domain errors take the same keywords); several problems of one form go
together (``InvalidInput.of(problems)``) so that a form shows every one at once. The English
message an error was raised with stays the developer's text (logs, tracebacks); people read
the text registered for its code. ``tests/exchange/test_messages.py`` fails when a code is used
but not registered, or registered without its Chinese.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MESSAGES", "Problem", "problems_of", "text_of", "error_body", "SUMMARY"]

#: code → English text (``%(name)s`` stands for a parameter).
MESSAGES: dict[str, str] = {
    # requests and decisions
    "purpose_required": "State the purpose of the request.",
    "purpose_too_long": "The purpose must be %(max)s characters or fewer.",
    "purpose_not_text": "The purpose must be text.",
    "columns_required": "Choose at least one column: ask only for the columns you need.",
    "columns_not_a_list": "Columns must be a list of column names.",
    "column_twice": "A column is named twice.",
    "columns_unknown": "The dataset has no column named %(columns)s.",
    "columns_not_requested": "These columns were not requested: %(columns)s.",
    "flowback_no_region_column": "Flowing back needs a column of region codes: publish the "
                                 "dataset with its region column.",
    "flowback_not_shareable": "A dataset that is not shareable does not flow back.",
    "flowback_not_pending": "This flow-back decision is not waiting for a confirmation.",
    "flowback_ended": "This flow-back decision has already ended.",
    "flowback_not_found": "There is no such flow-back decision.",
    "not_your_request": "This request is another department's.",
    "rows_malformed": "Choose the rows as columns, each with a list of values.",
    "rows_too_many": "Choose rows by at most %(columns)s columns, each with at most "
                     "%(values)s values.",
    "rows_column_unknown": "The dataset has no column named %(columns)s to choose rows by.",
    "rows_column_personal": "Rows cannot be chosen by a column of personal data (%(columns)s): "
                            "the choice is written in the audit log and the receipt.",
    "masking_outside_grant": "Masking names columns outside the grant: %(columns)s.",
    "masking_not_a_mapping": "Masking must map column names to operator names.",
    "operator_unknown": "Unknown masking operator: %(operators)s.",
    "masking_drops_every_column": "Every column is left out: choose another operator for at "
                                  "least one, or refuse the request.",
    "expiry_range": "The validity must be a whole number of days from 1 to %(max)s.",
    "reason_required": "Give the reason for the refusal.",
    "revoke_reason_required": "Give the reason for revoking: the receiving department reads it.",
    "reason_not_text": "The reason must be text.",
    "reason_too_long": "The reason must be %(max)s characters or fewer.",
    "text_too_long": "This must be %(max)s characters or fewer.",
    "l4_not_unconditional": "L4 data cannot be shared unconditionally: two stewards approve "
                            "every request for it.",
    "confirm_not_a_flag": "The confirmation of personal data is true or false.",
    "personal_data_unconfirmed": "Personal data was found in %(columns)s: confirm that this "
                                 "dataset may be classified %(level)s with it, or choose a "
                                 "higher level.",
    "dataset_id_required": "Name the dataset.",
    "own_dataset": "Your department owns this dataset: no request is needed.",
    "second_approval_differs": "The second approval must confirm the first one's %(name)s.",
    "already_approved": "You already approved this request; another steward must confirm it.",
    "request_already_decided": "This request was already decided.",
    "request_already_granted": "This request was already approved by %(by)s: what you just "
                               "did was not recorded.",
    "request_already_denied": "This request was already refused by %(by)s: what you just did "
                              "was not recorded.",
    "request_already_withdrawn": "The requesting department withdrew this request: what you "
                                 "just did was not recorded.",
    "request_already_refused": "This request was refused by rule (the data is not shareable): "
                               "what you just did was not recorded.",
    "request_under_appeal": "This request's refusal was appealed and the data authority is "
                            "deciding it: what you just did was not recorded.",
    "decided_meanwhile": "Someone else decided this request meanwhile.",
    "grant_already_revoked": "This grant was already revoked.",
    # appeals, notices, webhooks
    "appeal_reason_required": "Give the reason for the appeal: why your department still "
                              "needs the data.",
    "already_appealed": "This request's refusal was already appealed; the data authority "
                        "decides it.",
    "not_appealable": "Only a refused request can be appealed (this one is %(status)s).",
    "appeal_outcome_unknown": "Decide the appeal: upheld or returned.",
    "instruction_required": "Give the instruction to the providing department.",
    "instruction_too_long": "The instruction must be %(max)s characters or fewer.",
    "instruction_not_text": "The instruction must be text.",
    "no_open_appeal": "This request has no appeal waiting for a decision.",
    "not_overseen": "The providing department is not one you oversee.",
    "notification_ids_invalid": "Name the notices as a list of their ids.",
    "flag_invalid": "Give true or false.",
    "department_required": "Name the department.",
    "webhook_url_required": "Give the webhook's URL.",
    "webhook_url_invalid": "The webhook URL must be an http or https URL with a host and no "
                           "password.",
    "webhook_not_found": "There is no such webhook.",
    # interface sharing (接口共享)
    "mode_unknown": "The mode is file (the table) or query (lookups by key).",
    "key_columns_required": "Name 1 to %(max)s key columns to look records up by.",
    "key_columns_without_query": "Key columns are for a query request (mode query).",
    "daily_limit_range": "The daily limit must be a whole number from 1 to %(max)s.",
    "daily_limit_file": "A daily limit is for a query grant.",
    "not_a_query_grant": "This grant delivers files: look records up under a query grant.",
    "query_grant_no_file": "A query grant answers lookups and verifications, one record at a "
                           "time: it delivers no file.",
    "key_invalid": "Name one key column and its value: one of %(columns)s.",
    "key_value_invalid": "A value must be text of 1 to %(max)s characters.",
    "claims_invalid": "Claims name a key column and only columns of the grant (%(columns)s).",
    "daily_limit_reached": "The grant's %(limit)s calls of today are spent: more tomorrow.",
    "index_not_ready": "The lookup index of this version is being built: try again shortly.",
    "grant_changed": "The grant changed while the call was made (a new version, a new "
                     "decision): nothing was recorded, try again.",
    "grant_not_suspended": "This grant is not suspended.",
    "grant_not_suspendable": "Only an active query grant can be suspended.",
    "subject_value_invalid": "Give the identifier to search for (1 to 200 characters).",
    "email_invalid": "This is not an e-mail address.",
    "user_not_found": "There is no such user.",
    # ratings, objections, metrics
    "not_your_delivery": "This delivery is another department's.",
    "rating_range": "Rate the delivery with a whole number from 1 to 5.",
    "already_rated": "Your department has already rated this delivery.",
    "text_not_text": "This must be text.",
    "description_required": "Say what is wrong in the data.",
    "explanation_required": "Explain why the data is right, or fix it in a new version.",
    "objection_columns": "Name the columns the errors are in.",
    "objection_rows": "Name the rows as row numbers of the delivered file (at most %(max)s).",
    "objection_rows_range": "The delivered file has rows 1 to %(count)s.",
    "objection_outcome": "Answer with fixed or explained.",
    "objection_version": "Name the new version of the dataset that fixes the errors (newer "
                         "than version %(delivered)s, which was delivered).",
    "objection_answered": "This error report was answered already.",
    "objection_not_found": "There is no such error report.",
    "not_your_objection": "This error report is other departments'.",
    "status_unknown": "Unknown status.",
    "period_unknown": "The period must be month, quarter or year.",
    "day_invalid": "Give the day as YYYY-MM-DD.",
    "range_invalid": "The first day must come before the last, at most %(max)s days apart.",
    "metrics_format": "The format must be json or csv.",
    "grant_inactive": "This grant is no longer active (%(status)s).",
    "request_not_found": "There is no such request.",
    "grant_not_found": "There is no such grant.",
    "exchange_not_found": "There is no such delivery.",
    "dataset_not_found": "There is no such dataset.",
    "dataset_withdrawn": "This dataset was withdrawn from the catalog.",
    "not_your_dataset": "Only a data steward of the dataset's department may change it.",
    "withdraw_reason_required": "Give the reason for withdrawing: the receiving departments "
                                "read it.",
    "follows_unknown": "Choose whether the grant follows the latest version or stays on "
                       "this one.",
    "unknown_field": "Unknown fields: %(fields)s.",
    "version_not_newer": "Choose a version after version %(version)s, the grant's own.",
    "resource_code_malformed": "The resource code is letters, digits and / . _ - (at most "
                               "64).",
    "resource_code_taken": "Another dataset already has this resource code.",
    "category_unknown": "Choose the resource class: basic, theme or department.",
    "theme_unknown": "Choose a theme from the directory's list.",
    "public_columns_malformed": "Public columns are a list of column names, each once.",
    "department_code": "A department's code is a lower-case letter, then 1 to 39 lower-case "
                       "letters, digits, - or _.",
    "department_level": "Choose the level: province, city, district or street.",
    "department_name": "Give the department's name (at most 200 characters).",
    "department_exists": "A department with this code exists.",
    "department_not_found": "There is no such department.",
    "department_unknown": "There is no such department: an admin adds it first.",
    "department_disabled": "This department is disabled.",
    "region_required": "A district or street department needs its region code (GB/T 2260, "
                       "six digits).",
    "region_unknown": "The region is a GB/T 2260 code in use: six digits, e.g. 510104.",
    "region_level_mismatch": "This region code is not one of a %(level)s.",
    "region_outside_parent": "The region is outside the region of the department it answers "
                             "to.",
    "parent_unknown": "There is no such department to answer to.",
    "parent_disabled": "The department it would answer to is disabled.",
    "parent_below": "A department cannot answer to one at a lower level.",
    "parent_cycle": "A department cannot answer to one of the departments under it.",
    "children_misfit": "A department under this one would no longer fit its level or region.",
    "department_has_children": "Disable the departments under this one first.",
    "disable_self": "You cannot disable your own account.",
    "user_action_unknown": "Choose what to do: disable, enable, a new token or lift the "
                           "lock-out.",
    "sort_unknown": "Choose the order: %(choices)s.",
    "sort_relevance_without_q": "Only a search has an order by relevance: type words to "
                                "search for, or choose another order.",
    "open_type_unknown": "Choose whether the data is open to the public: no, on conditions "
                         "or unconditionally.",
    "update_frequency_unknown": "Choose how often the data is updated.",
    "share_method_unknown": "Choose how the data is shared: interface, table or file.",
    "related_resources_malformed": "Related resources are a list of resource codes.",
    "contact_malformed": "The contact point needs a name (and may have an e-mail address "
                         "and a telephone number).",
    "temporal_malformed": "The time covered is a start and an end date, such as 2026-01-01.",
    "spatial_malformed": "The area covered is a list of six-digit region codes (GB/T 2260), "
                         "such as 510104.",
    "column_descriptions_malformed": "Column descriptions map each column's name to text of "
                                     "at most 2,000 characters.",
    "page_size_range": "The page size must be a whole number from 1 to %(max)s.",
    "page_token_invalid": "This page link has expired or was changed: start again from the "
                          "first page.",
    # publishing
    "metadata_not_an_object": "The metadata must be a JSON object.",
    "metadata_unknown_fields": "Unknown metadata fields: %(fields)s.",
    "metadata_not_text": "%(field)s must be text.",
    "strict_not_a_flag": "Strict must be true or false.",
    "not_null_not_a_list": "The columns that must not be empty must be a list of column names.",
    "title_required": "Give the dataset a title.",
    "sharing_unknown": "Choose how the dataset is shared: unconditional, conditional or not "
                       "shareable.",
    "level_unknown": "Choose the classification level: L1, L2, L3 or L4.",
    "legal_basis_required": "A dataset that is not shareable needs its legal basis.",
    "file_required": "Choose a file to publish.",
    "file_empty": "The chosen file is empty.",
    "file_no_rows": "The file has a header but no data rows.",
    "file_unreadable": "The file cannot be read as a table: it must be one of the formats "
                       "listed, with a header row and the same number of fields on every row.",
    # external tables
    "external_tables_off": "This exchange registers no external tables (GOVEX_EXTERNAL_ROOTS "
                           "names none).",
    "external_location_outside": "The folder must be an absolute path inside one of the "
                                 "exchange's external roots.",
    "external_not_a_folder": "There is no such folder.",
    "external_table_changed": "The table's files changed since this version was registered: "
                              "register a new version.",
    # deliveries
    "format_unknown": "The file format must be one of %(formats)s.",
    "bom_only_csv": "A byte-order mark is for CSV files only (true or false).",
    "xlsx_too_many_rows": "An XLSX sheet holds at most %(max)s rows and this dataset has "
                          "%(rows)s: choose CSV, Parquet or JSON Lines.",
    "grant_drops_every_column": "The grant drops every column: there is nothing to deliver.",
    "no_active_grant": "No active grant of your department covers this.",
    # who may do what
    "forbidden": "You may not do this.",
    "unauthenticated": "Sign in, or send a valid API token.",
    "too_many_attempts": "Refused too often: try again in %(seconds)s seconds.",
    # the generic kinds, when an error names no problem of its own
    "invalid_input": "The request is malformed.",
    "invalid": "The request cannot be carried out as it stands.",
    "not_found": "There is no such thing here.",
    "conflict": "The current state does not allow this.",
    "too_large": "The upload is too large.",
    "internal": "Something went wrong on the exchange; the operator can find the details in "
                "the server log.",
}

#: The message over a list of problems with a field each.
SUMMARY = "Check the fields below."


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong: its ``code``, the form ``field`` it concerns, its ``params``."""

    code: str
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def problems_of(exc: BaseException) -> list[Problem]:
    """The problems ``exc`` names (none for an error raised without a code)."""
    listed = getattr(exc, "problems", None)
    if listed:
        return list(listed)
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code in MESSAGES:
        return [Problem(code, getattr(exc, "field", None), dict(getattr(exc, "params", {})))]
    return []


def text_of(problem: Problem, translate: Callable[[str], str] = str) -> str:
    """The problem in words: its registered text, translated, with its parameters."""
    template = translate(MESSAGES[problem.code])
    params = {k: _shown(v) for k, v in problem.params.items()}
    try:
        return template % params if params else template
    except (KeyError, TypeError, ValueError):  # a translation that lost a parameter
        return MESSAGES[problem.code] % params if params else MESSAGES[problem.code]


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return "、".join(str(v) for v in value) if _chinese(value) else ", ".join(map(str, value))
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _chinese(values: Any) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for v in values for ch in str(v))


def error_body(exc: BaseException, *, code: str, fallback: str,
               translate: Callable[[str], str] = str) -> dict[str, Any]:
    """The API's error object for ``exc``: ``code`` and ``fallback`` (the generic kind and
    the public message) unless the error names its problems; with problems on fields, each
    under ``fields``."""
    problems = problems_of(exc)
    fields = [{"name": p.field, "code": p.code, "message": text_of(p, translate)}
              for p in problems if p.field]
    if len(problems) == 1:
        body: dict[str, Any] = {"code": problems[0].code,
                                "message": text_of(problems[0], translate)}
    elif problems:
        body = {"code": code, "message": translate(SUMMARY)}
    else:  # an error raised without a code: its own words (never internals: see errors.py)
        body = {"code": code, "message": translate(MESSAGES["internal"]) if code == "internal"
                else fallback}
    if fields:
        body["fields"] = fields
    return body
