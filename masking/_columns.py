"""Column plumbing shared by the operators: pandas/pyarrow in, the same kind out."""

from __future__ import annotations

from typing import Union

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Column", "to_arrow", "to_strings", "like", "mask_ends", "null_like"]

Column = Union[pd.Series, pa.Array, pa.ChunkedArray]


def to_arrow(values: Column) -> pa.Array:
    """The values as one pyarrow array (any type); raises TypeError for other inputs."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, pd.Series):
        try:
            return pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.array(values.astype("str"), from_pandas=True)
    raise TypeError(f"expected a pandas Series or a pyarrow array, got {type(values).__name__}")


def to_strings(values: Column) -> pa.Array:
    """The values as a pyarrow ``string`` array; nulls stay null. Raises TypeError like
    :func:`to_arrow`."""
    array = to_arrow(values)
    if pa.types.is_string(array.type):
        return array
    if pa.types.is_floating(array.type) and _all_integral(array):
        array = pc.cast(array, pa.int64())
    return pc.cast(array, pa.string())


def _all_integral(array: pa.Array) -> bool:
    valid = pc.drop_null(array)
    return len(valid) == 0 or bool(pc.all(pc.equal(pc.floor(valid), valid)).as_py())


def like(original: Column, result: pa.Array) -> Column:
    """Wrap ``result`` like ``original``: a Series keeps its index and name."""
    if isinstance(original, pd.Series):
        return pd.Series(result.to_pandas().array, index=original.index, name=original.name)
    return result


def null_like(values: Column) -> pa.Array:
    """An all-null string array as long as ``values``."""
    return pa.nulls(len(values), pa.string())


def mask_ends(
    strings: pa.Array, first: int, last: int, char: str = "*", *, keep_spaces: bool = False
) -> pa.Array:
    """Keep ``first`` leading and ``last`` trailing characters, ``char`` for every other one.

    With ``keep_spaces`` whitespace inside the masked part stays (``John Smith`` -> ``J*** *****``).
    A value too short to hide at least one character is masked entirely. Nulls stay null.
    """
    if keep_spaces and pc.any(pc.match_substring_regex(strings, r"\s")).as_py():
        return _mask_ends_keeping_spaces(strings, first, last, char)
    lengths = pc.utf8_length(strings)
    head = pc.utf8_slice_codeunits(strings, 0, first)
    tail = (pc.utf8_slice_codeunits(strings, -last) if last
            else pc.utf8_slice_codeunits(strings, 0, 0))
    hidden = pc.max_element_wise(pc.subtract(lengths, first + last), 0)
    kept = pc.binary_join_element_wise(head, pc.binary_repeat(char, hidden), tail, "")
    short = pc.less_equal(lengths, first + last)
    return pc.if_else(short, pc.binary_repeat(char, lengths), kept)


def _mask_ends_keeping_spaces(strings: pa.Array, first: int, last: int, char: str) -> pa.Array:
    head = pc.utf8_slice_codeunits(strings, 0, first)
    middle = pc.utf8_slice_codeunits(strings, first, -last if last else None)
    tail = (pc.utf8_slice_codeunits(strings, -last) if last
            else pc.utf8_slice_codeunits(strings, 0, 0))
    replacement = char.replace("\\", "\\\\")  # RE2 rewrite strings treat backslash specially
    masked = pc.replace_substring_regex(middle, r"\S", replacement)
    kept = pc.binary_join_element_wise(head, masked, tail, "")
    short = pc.less_equal(pc.utf8_length(strings), first + last)
    return pc.if_else(short, pc.replace_substring_regex(strings, r"\S", replacement), kept)
