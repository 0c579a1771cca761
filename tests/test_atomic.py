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


def test_a_long_legal_name_is_written_and_its_stale_temporaries_swept(tmp_path):
    """A file name of 250 bytes is legal (255 is the limit); its temporary file's name once
    ran over the limit ("File name too long"). Multi-byte names are cut on a character."""
    for name in ("q" * 245 + ".xlsx", "é" * 120 + ".pdf"):
        target = tmp_path / name
        assert len(name.encode()) <= 255
        stem = name.encode()[:241].decode(errors="ignore")
        stale = tmp_path / f".{stem}.killed00.tmp"  # a write of the same name killed part-way
        stale.write_bytes(b"half")
        atomic_write_bytes(target, b"whole")
        assert target.read_bytes() == b"whole" and not stale.exists()
    assert sorted(p.name for p in tmp_path.glob(".*")) == []
