"""Word lists for the segmentation-based recognizers (person names, addresses) and jieba setup.

The lists live in :mod:`masking._words` and the jieba helpers in :mod:`masking._jieba` (so that
masking by a plan needs neither Presidio nor jieba); they are re-exported here for the
recognizers.
"""

from __future__ import annotations

from masking._jieba import UNKNOWN, configure_jieba, iter_tags, pos_tag, tag_of
from masking._words import ADDRESS_SUFFIXES, ADMIN_SUFFIXES, COMPOUND_SURNAMES, SURNAMES, surname_of

__all__ = [
    "SURNAMES",
    "COMPOUND_SURNAMES",
    "ADDRESS_SUFFIXES",
    "ADMIN_SUFFIXES",
    "configure_jieba",
    "pos_tag",
    "iter_tags",
    "tag_of",
    "UNKNOWN",
    "surname_of",
]
