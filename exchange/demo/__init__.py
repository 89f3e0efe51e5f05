"""The demo: a city's departments, users and synthetic datasets (``govex demo``, tests).

:mod:`exchange.demo.builder` builds an instance; :mod:`exchange.demo.data` makes the datasets
(Faker and seeded randomness: names, valid resident IDs, mobiles, credit codes, complaints).
Nothing else in the application imports this package.
"""

from __future__ import annotations

from .builder import DEMO_USERS_FILE, build_demo, users_table

__all__ = ["DEMO_USERS_FILE", "build_demo", "users_table"]
