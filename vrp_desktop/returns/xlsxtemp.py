"""openpyxl's part files kept beside the destination, never in the system temp folder.

openpyxl streams each worksheet through a temporary file made with ``tempfile`` (in write-only
mode, and for every sheet when it saves). For an export with identifiers those files are
plaintext names and birth dates, so they go into a private (0700) folder beside the
destination, inside the same protection the user chose for the file, and are removed when the
workbook is saved or fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from openpyxl.worksheet import _writer

_LOCK = threading.RLock()


@contextlib.contextmanager
def parts_beside(destination: Path) -> Iterator[Path]:
    """While open, openpyxl's temporary files go into a private folder beside ``destination``."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        prefix = f".{destination.name}.parts-"
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=destination.parent))
        original = _writer.create_temporary_file

        def create_temporary_file(suffix: str = "") -> str:
            fd, name = tempfile.mkstemp(suffix=suffix, prefix="sheet.", dir=folder)
            os.close(fd)
            _writer.ALL_TEMP_FILES.append(name)
            return name

        _writer.create_temporary_file = create_temporary_file
        try:
            yield folder
        finally:
            _writer.create_temporary_file = original
            for name in [n for n in _writer.ALL_TEMP_FILES if Path(n).parent == folder]:
                _writer.ALL_TEMP_FILES.remove(name)
            shutil.rmtree(folder, ignore_errors=True)
