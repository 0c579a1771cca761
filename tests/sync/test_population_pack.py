"""The population reference pack (issue 13): the VRP publishes signed, versioned figures through
``vrp``; a provider installs them; anything tampered, foreign, older or malformed is refused
with a message and changes no byte."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import PASSPHRASE
from tests.sync.conftest import snapshot
from vrp_desktop.cli import main
from vrp_desktop.reference import population

CSV = """dimension,category,population
ethnic_group,Asian,300
ethnic_group,"Black, Black British, Black Welsh, Caribbean or African",200
ethnic_group,mixed,100
ethnic_group,White,350
ethnic_group,Other ethnic group,50
gender,Female,490
gender,male,510
age_band,10-13,400
age_band,14-15,200
age_band,16-17,200
age_band,18-20,200
area,b11,600
area,B12 9QR,400
"""


def _vrp(*argv) -> int:
    return main([str(a) for a in argv])


def _publish(folder: Path, csv_file: Path, out: Path, title: str = "t") -> int:
    how = ["--title", title, "--source", "ONS Census 2021 (illustrative)", "--base", "10-20"]
    return _vrp("reference", "publish", folder, csv_file, "--out", out, *how)


@pytest.fixture
def published(pair, monkeypatch, capsys) -> Path:
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    source = pair.root / "population.csv"
    source.write_text(CSV, encoding="utf-8")
    out = pair.root / "transfer" / "population.vrpref"
    code = _publish(pair.coord, source, out)
    assert code == 0, capsys.readouterr().err
    assert "version 1" in capsys.readouterr().out
    return out


def test_published_pack_installs_at_the_provider_and_both_compare_with_it(pair, published, capsys):
    assert _vrp("reference", "import", pair.prov, published) == 0, capsys.readouterr().err
    assert "version 1" in capsys.readouterr().out
    for folder in (pair.coord, pair.prov):
        assert _vrp("reference", "show", folder, "--json") == 0
        shown = json.loads(capsys.readouterr().out)
        assert shown["version"] == 1
        assert shown["tables"]["ethnic_group"] == {
            "asian": 300, "black": 200, "mixed": 100, "white": 350, "other": 50,
        }  # fmt: skip
        assert shown["tables"]["gender"] == {"female": 490, "male": 510}
        assert shown["tables"]["area"] == {"B11": 600, "B12": 400}
    with pair.p() as p:
        assert population.installed(p).shares("gender") == {"female": 0.49, "male": 0.51}


def test_a_newer_version_replaces_and_an_older_one_is_refused(pair, published, capsys):
    older = published.with_name("old.vrpref")
    older.write_bytes(published.read_bytes())
    assert _vrp("reference", "import", pair.prov, published) == 0
    source = pair.root / "population.csv"
    source.write_text(CSV.replace("area,b11,600", "area,b11,650"), encoding="utf-8")
    newer = published.with_name("v2.vrpref")
    assert _publish(pair.coord, source, newer) == 0
    assert _vrp("reference", "import", pair.prov, newer) == 0
    capsys.readouterr()
    assert _vrp("reference", "import", pair.prov, newer) != 0
    assert "(version 2) is already installed" in capsys.readouterr().err
    before = snapshot(pair.prov)
    assert _vrp("reference", "import", pair.prov, older) != 0
    err = capsys.readouterr().err
    assert "version 1, but version 2 is already installed" in err
    assert snapshot(pair.prov) == before


DAMAGES = [
    "tampered_figure",
    "resigned_by_stranger",
    "other_vrp",
    "truncated",
    "not_json",
    "binary",
]


def test_a_bad_pack_is_refused_and_nothing_changes(pair, published, capsys):
    for damage in DAMAGES:
        _refused(pair, published, capsys, damage)


def _refused(pair, published, capsys, damage):
    from vrp_desktop.sync import common

    text = published.read_text()
    body = json.loads(text)
    bad = published.with_name("bad.vrpref")
    if damage == "tampered_figure":
        body["tables"]["gender"]["male"] = 9999
        bad.write_text(json.dumps(body))
    elif damage in ("resigned_by_stranger", "other_vrp"):
        body.pop("signature")
        if damage == "other_vrp":
            body["vrp_id"] = "someone-else"
        private, _public = common.new_signing_key()
        body["signature"] = common.b64(common.sign(private, common.canonical(body)))
        bad.write_text(json.dumps(body))
    elif damage == "truncated":
        bad.write_text(text[: len(text) // 2])
    elif damage == "not_json":
        bad.write_text("dimension,category,population\n")
    else:
        bad.write_bytes(b"\xff\xfe\x00PK\x03\x04")
    before = snapshot(pair.prov)
    assert _vrp("reference", "import", pair.prov, bad) != 0, damage
    err = capsys.readouterr().err
    assert "Nothing" in err or "not a population reference pack" in err, damage
    assert "Traceback" not in err
    assert snapshot(pair.prov) == before, damage


BAD_CSVS = [
    ("dimension,category,population\nethnic_group,Martian,5\n", "'Martian' is not a"),
    ("dimension,category,population\ngender,female,many\n", "'many' is not a whole number"),
    ("dimension,category,population\nshoe_size,9,5\n", "'shoe_size' is not a dimension"),
    ("dimension,category,population\ngender,female,-3\n", "cannot be negative"),
    ("dimension,category,population\ngender,female,3\ngender,Female,4\n", "given twice"),
    ("region,people\nnorth,5\n", "must start with the header row"),
    ("", "is empty"),
    (
        "dimension,category,population\ngender,female,500\nage_band,10-13,100\n",
        "different totals",
    ),
]


def test_a_bad_csv_is_refused_with_its_problems_named(pair, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    source = pair.root / "population.csv"
    out = pair.root / "transfer" / "population.vrpref"
    before = snapshot(pair.coord)
    for csv_text, message in BAD_CSVS:
        source.write_text(csv_text, encoding="utf-8")
        code = _publish(pair.coord, source, out)
        assert code != 0, message
        assert message in capsys.readouterr().err
        assert not out.exists()
        assert snapshot(pair.coord) == before, message


def test_only_the_vrp_publishes(pair, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    source = pair.root / "population.csv"
    source.write_text(CSV, encoding="utf-8")
    before = snapshot(pair.prov)
    code = _publish(pair.prov, source, pair.root / "x.vrpref")
    assert code != 0
    assert "coordinator" in capsys.readouterr().err.lower()
    assert snapshot(pair.prov) == before


def test_show_says_what_to_do_when_nothing_is_installed(pair, monkeypatch, capsys):
    monkeypatch.setenv("VRP_PASSPHRASE", PASSPHRASE)
    assert _vrp("reference", "show", pair.prov) == 0
    assert "vrp reference import" in capsys.readouterr().out


def test_the_providers_evaluation_pack_compares_reach_with_the_installed_figures(
    pair, published, capsys
):
    assert _vrp("reference", "import", pair.prov, published) == 0
    out = pair.root / "evaluation.xlsx"
    code = _vrp("evaluation", "export", pair.prov, "--period", "2026-27", "--out", out)
    assert code == 0, capsys.readouterr().err
    book = openpyxl.load_workbook(out, read_only=True)
    rows = list(book["Reach vs population"].iter_rows(min_row=4, values_only=True))
    header, body = list(rows[0]), [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert header[:4] == ["Level", "Unit", "Dimension", "Group"]
    assert {r["Population"] for r in body if r["Group"] == "Female"} == {490}
    for row in body:  # a ratio only beside a count that is shown
        if isinstance(row["Referred"], str):
            assert row["Representation ratio"] == "[c]"
    notes = [cell for r in book["Notes"].iter_rows(values_only=True) for cell in r]
    assert "Reach against the population" in notes
