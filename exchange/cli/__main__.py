"""``python -m exchange.cli``: the ``govex`` command (how ``govex serve --processes`` starts
its server processes with the same interpreter)."""

from . import main

main()
