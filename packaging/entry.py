"""Frozen entry point for both programs in the bundle, chosen by the name it was started as.

``vrp`` (``vrp.exe``) runs the command line, the same ``main()`` as the ``vrp`` script; any other
name (``vrp-desktop``, ``vrp-desktop-console``) runs the window, as ``python -m ui`` does. One
executable serves both, so the libraries and the Python archive are in the bundle once; on Linux
``vrp`` is a symbolic link to ``vrp-desktop``. The command line never imports Qt.
"""

import os
import sys


def _program() -> str:
    return os.path.splitext(os.path.basename(sys.argv[0] or ""))[0].lower()


if __name__ == "__main__":
    if _program() == "vrp":
        from vrp_desktop.cli import main
    else:
        from ui.app import main
    sys.exit(main())
