"""Command-line edges shared by the scripts: a bad-input error that becomes one line on
stderr and exit status 2 (no usage text, no traceback)."""

import os
import sys


class InputError(Exception):
    """A bad input file or folder, named in the message."""


def run(main):
    """``absl.app.run(main)`` and exit; an :class:`InputError` raised by ``main`` becomes
    ``<script>: error: <message>`` on stderr and status 2."""
    from absl import app

    def checked(argv):
        try:
            return main(argv)
        except InputError as e:
            print(f"{os.path.basename(sys.argv[0])}: error: {e}", file=sys.stderr)
            return 2

    sys.exit(app.run(checked))
