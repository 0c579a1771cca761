"""Named crash points for the fault-injection suite (tests/faults).

``point("name")`` kills the process on the spot (SIGKILL: no cleanup, no finally blocks) when
the environment variable ``VRP_FAULT_POINT`` names that point. Only the fault tests set it, so
a crash can be placed exactly between a file and a commit; in normal use it is never set and a
point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "VRP_FAULT_POINT"


def point(name: str) -> None:
    """Die here, now, if the fault suite asked for a crash at ``name``."""
    if os.environ.get(ENV) == name and not getattr(sys, "frozen", False):
        os.kill(os.getpid(), signal.SIGKILL)
