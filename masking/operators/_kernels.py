"""Bulk string kernels of the operators: the same values as the plain versions, fewer passes.

The plain versions (:func:`masking._columns.mask_ends`, :func:`masking._address.admin_prefix_ends`,
a regex replacement per value) are the reference; ``tests/masking/test_kernels.py`` compares.
What makes these faster on a million-row column:

- a column of one width (resident IDs, mobiles, credit codes) is masked by one slice
  replacement instead of slicing, repeating and joining (~10x);
- separators are stripped only from columns that can hold them (a column of ASCII letters and
  digits cannot), so the regex pass is skipped on clean data;
- an address's administrative prefix depends only on its leading run of Chinese characters and
  spaces (an address unit is made of nothing else), so it is computed once per distinct run
  (district + street: a few hundred) rather than per distinct value.
"""

from __future__ import annotations

import functools

import pyarrow as pa
import pyarrow.compute as pc

from masking._address import admin_prefix, admin_prefix_end, admin_prefix_ends, map_distinct
from masking._columns import mask_ends as _plain_mask_ends

__all__ = ["admin_prefixes_by_run", "mask_digits", "mask_ends", "mask_location", "mask_words",
           "strip"]

#: What an address unit is made of (``masking._address._UNIT``: Chinese characters, and spaces
#: in the ``regex`` module's sense; this RE2 class holds them all, and a few more, which only
#: makes a run longer). A unit never reaches past the leading run of these, so the administrative
#: prefix of a value is that of its run. Runs are taken from the first ``_HEAD`` characters of
#: each value (few distinct heads); a run that fills its head is taken from the whole value.
_RUN = r"^(?P<run>[\x{4e00}-\x{9fff}\t\n\x{0b}\f\r\x{1c}-\x{1f}\x{85}\pZ]*)"
_HEAD = 16
_NO_STRING = pa.scalar(None, pa.string())
_HAN_CHAR = r"[\x{4e00}-\x{9fff}]"

#: Strip patterns that leave a string of ASCII letters and digits as it is, unless it starts
#: with one of the given prefixes. Other patterns always run.
_ALNUM_SAFE_STRIPS: dict[str, tuple[str, ...]] = {
    r"\s": (),
    r"[\s-]": (),
    r"^(?:\+|00)86|[\s-]": ("0086",),
}


def _all(mask: pa.Array) -> bool:
    """True when every non-null value of a boolean array is true (also when all are null)."""
    return pc.all(mask).as_py() is not False


def strip(strings: pa.Array, pattern: str) -> pa.Array:
    """``pc.replace_substring_regex(strings, pattern, "")``, skipped when it cannot change a
    value."""
    prefixes = _ALNUM_SAFE_STRIPS.get(pattern)
    if prefixes is not None and _all(pc.ascii_is_alnum(strings)) and not any(
            pc.any(pc.starts_with(strings, p)).as_py() for p in prefixes):
        return strings
    return pc.replace_substring_regex(strings, pattern, "")


def mask_ends(
    strings: pa.Array, first: int, last: int, char: str = "*", *, keep_spaces: bool = False
) -> pa.Array:
    """:func:`masking._columns.mask_ends`: keep ``first`` and ``last`` characters, ``char`` for
    the others; a value too short to hide one is all ``char``. Nulls stay null."""
    if keep_spaces and not _all(pc.utf8_is_alpha(strings)):
        return _plain_mask_ends(strings, first, last, char, keep_spaces=True)  # may hold spaces
    if strings.null_count == len(strings):
        return strings
    ascii_only = _all(pc.string_is_ascii(strings))
    lengths = pc.binary_length(strings) if ascii_only else pc.utf8_length(strings)
    extremes = pc.min_max(lengths)
    shortest, longest = extremes["min"].as_py(), extremes["max"].as_py()
    if shortest == longest:
        return _mask_one_width(strings, shortest, first, last, char, ascii_only)
    hidden = pc.max_element_wise(pc.subtract(lengths, first + last), 0)
    parts = [pc.utf8_slice_codeunits(strings, 0, first)] if first else []
    parts.append(pc.binary_repeat(char, hidden))
    if last:
        parts.append(pc.utf8_slice_codeunits(strings, -last))
    kept = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "")
    if shortest > first + last:
        return kept
    short = pc.less_equal(lengths, first + last)
    return pc.if_else(short, pc.binary_repeat(char, lengths), kept)


def _mask_one_width(strings: pa.Array, width: int, first: int, last: int, char: str,
                    ascii_only: bool) -> pa.Array:
    """Every value is ``width`` characters long: one slice replacement does it."""
    start, stop = (0, width) if width <= first + last else (first, width - last)
    replace = pc.binary_replace_slice if ascii_only else pc.utf8_replace_slice
    return replace(strings, start, stop, char * (stop - start))


def _head_runs(strings: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The values' heads, dictionary-encoded, and each distinct head's leading run (null when
    the run fills the head: it may go on past it)."""
    heads = pc.dictionary_encode(pc.utf8_slice_codeunits(strings, 0, _HEAD))
    runs = pc.struct_field(pc.extract_regex(heads.dictionary, _RUN), "run")
    return heads, pc.if_else(pc.less(pc.utf8_length(runs), _HEAD), runs, _NO_STRING)


@functools.lru_cache(maxsize=4096)
def _run_end(run: str) -> int:
    """:func:`admin_prefix_end` of a leading run (the same as of every value it leads)."""
    return admin_prefix_end(run)


def mask_location(strings: pa.Array, first: int, char: str) -> pa.Array:
    """Keep each address down to its district (at least ``first`` characters), ``char`` for
    the rest: ``value[:end] + char * (len(value) - end)``, as the plain ``_location`` did."""
    if first > _HEAD:
        return _mask_location_per_end(strings, first, char)  # keeps more than any head
    heads, runs = _head_runs(strings)
    by_run = pc.dictionary_encode(runs)
    run_ends = [max(_run_end(run), first) for run in by_run.dictionary.to_pylist()]
    ends = pc.take(pa.array(run_ends, pa.int32()), by_run.indices)  # per distinct head
    kept = pc.if_else(pc.is_null(ends), _NO_STRING, heads.dictionary)
    for end in set(run_ends):  # a head's value[:end] is head[:end]: end <= _HEAD
        kept = pc.if_else(pc.equal(ends, end), pc.utf8_slice_codeunits(kept, 0, end), kept)
    kept, ends = pc.take(kept, heads.indices), pc.take(ends, heads.indices)
    stars = pc.max_element_wise(pc.subtract(pc.utf8_length(strings), ends), 0)
    out = pc.binary_join_element_wise(kept, pc.binary_repeat(char, stars), "")
    if out.null_count == strings.null_count:
        return out
    # values whose leading run fills the head: from the whole value
    rest = pc.if_else(pc.is_null(out), strings, _NO_STRING)
    return pc.coalesce(out, map_distinct(rest, lambda v: _mask_address(v, first, char)))


def _mask_address(value: str, first: int, char: str) -> str:
    end = max(admin_prefix_end(value), first)
    return value[:end] + char * max(len(value) - end, 0)


def admin_prefixes_by_run(strings: pa.Array) -> pa.Array:
    """:func:`masking._address.admin_prefixes`, computed once per distinct leading run."""
    heads, runs = _head_runs(strings)
    by_run = pc.dictionary_encode(runs)
    prefixes = pa.array([admin_prefix(run) for run in by_run.dictionary.to_pylist()], pa.string())
    out = pc.take(pc.take(prefixes, by_run.indices), heads.indices)
    if out.null_count == strings.null_count:
        return out
    rest = pc.if_else(pc.is_null(out), strings, _NO_STRING)
    return pc.coalesce(out, map_distinct(rest, admin_prefix))


def _mask_location_per_end(strings: pa.Array, first: int, char: str) -> pa.Array:
    """The plain version: one pass per distinct kept length."""
    ends = pc.max_element_wise(admin_prefix_ends(strings), first)
    lengths = pc.utf8_length(strings)
    out = pc.binary_repeat(char, lengths)
    for end in pc.unique(ends).to_pylist():
        if not end:
            continue
        kept = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(strings, 0, end),
            pc.binary_repeat(char, pc.max_element_wise(pc.subtract(lengths, end), 0)), "")
        out = pc.if_else(pc.equal(ends, end), kept, out)
    return out


def mask_words(strings: pa.Array, first: int, last: int, char: str = "*") -> pa.Array:
    """:func:`mask_ends` of every word (split at spaces) of a value in Latin script:
    ``Douglas King`` -> ``D****** K***``. A value holding a Chinese character, or no space,
    is masked as one word (``张伟`` -> ``张*``, ``王 芳`` -> ``王 *``). Spaces stay where they
    were; nulls stay null."""
    whole = mask_ends(strings, first, last, char, keep_spaces=True)
    latin = pc.and_(pc.match_substring(strings, " "),
                    pc.invert(pc.match_substring_regex(strings, _HAN_CHAR)))
    if not pc.any(latin).as_py():
        return whole
    lists = pc.split_pattern(pc.if_else(latin, strings, _NO_STRING), " ")
    words = mask_ends(pc.list_flatten(lists), first, last, char, keep_spaces=True)
    rebuilt = pa.ListArray.from_arrays(lists.offsets, words, mask=pc.is_null(lists))
    return pc.if_else(latin, pc.binary_join(rebuilt, " "), whole)


def mask_digits(strings: pa.Array, first: int, last: int, char: str, *,
                keep: str | None) -> pa.Array:
    """Keep a leading match of ``keep`` (an RE2 pattern: a country code), then the first
    ``first`` and last ``last`` digits; every other digit becomes ``char``, and everything
    else stays (``(639) 950-0538`` -> ``(***) ***-0538``). A value with too few digits has
    all its digits masked. Nulls stay null."""
    star = char.replace("\\", "\\\\")  # RE2 rewrite strings treat backslash specially
    split = pc.extract_regex(strings, f"^(?P<lead>{keep or ''})?(?P<rest>.*)$")  # lead if it can
    rest = pc.struct_field(split, "rest")
    parts = pc.extract_regex(rest, f"^(?P<head>(?:\\D*\\d){{{first}}})(?P<mid>.*?)"
                                   f"(?P<tail>(?:\\d\\D*){{{last}}})$")
    mid = pc.replace_substring_regex(pc.struct_field(parts, "mid"), r"\d", star)
    kept = pc.binary_join_element_wise(pc.struct_field(split, "lead"),
                                       pc.struct_field(parts, "head"), mid,
                                       pc.struct_field(parts, "tail"), "")
    return pc.if_else(pc.is_valid(parts), kept, pc.replace_substring_regex(strings, r"\d", star))
