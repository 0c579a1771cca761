"""VRP Desktop core: the Qt-free engine behind the window and the `vrp` command line."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vrp-desktop")
except PackageNotFoundError:  # running from a source tree or a frozen bundle
    __version__ = "0+unknown"
