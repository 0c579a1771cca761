"""Atomic writes to a path given relative to the working folder (as people type them)."""

from __future__ import annotations

from pathlib import Path

from vrp_desktop.atomic import atomic_write_bytes


def test_a_relative_path_is_written_and_its_stale_temporaries_swept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / ".out.bin.killed.tmp"  # left by a write killed part-way
    stale.write_bytes(b"half")
    atomic_write_bytes(Path("sub/out.bin"), b"whole")
    atomic_write_bytes(Path("out.bin"), b"top")
    assert (tmp_path / "sub" / "out.bin").read_bytes() == b"whole"
    assert (tmp_path / "out.bin").read_bytes() == b"top"
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.rglob("*.tmp")) == []
