"""The use cases: what a user of the exchange can do, one module per area.

``publishing`` (publish, read and search datasets), ``access`` (requests, decisions, grants),
``masking_plan`` (the masking a grant applies; shared by access and delivery), ``delivery``
(mask, sign, log, hand over), ``auditing`` (entries, checkpoints, proofs, evidence), ``admin``
(instance, users, keys) and ``signin`` (web sessions). Each takes the ``Services`` runtime and a
``Principal`` and calls the domain packages only through their ``__init__``; the interfaces
(``api``, ``web``, ``cli``) call these and nothing below them.
"""
