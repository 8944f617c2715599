"""``python -m relcrm``: the same as the ``relcrm`` command."""

from relcrm.cli import main

main()
