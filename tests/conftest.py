"""Shared fixtures: no network, no writes outside tmp dirs."""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
