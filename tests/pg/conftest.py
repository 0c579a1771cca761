"""The server-store tests reuse the sync fixtures (a coordinator and a joined provider)."""

from tests.sync.conftest import pair  # noqa: F401
