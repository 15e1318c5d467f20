"""docs/case-format.md must hold exactly the column tables the schema registry generates."""
from __future__ import annotations

from pathlib import Path

import pytest

from casa_dyn.case import schema as S
from casa_dyn.case.docs import BEGIN, END, format_markdown, generated_block, splice
from casa_dyn.case.tables import REQUIRED

DOC = Path(__file__).resolve().parents[1] / "docs" / "case-format.md"


def test_committed_doc_matches_generator():
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert generated_block(text) == format_markdown(), "run: python docs/generate.py"
    assert splice(text) == text


def test_generated_tables_cover_every_column_with_unit_default_and_range():
    md = format_markdown()
    for t in S.tables().values():
        assert f"### `{t.name}`" in md
        for c in t.columns:
            rows = [line for line in md.splitlines() if line.startswith(f"| `{c.name}` |")]
            assert any(c.doc.replace("|", "\\|") in r for r in rows), (t.name, c.name)
    # spot checks against tables.py, written out by hand
    assert "| `base_kv` | float64 | kV | required | (0, inf] | nominal line-to-line voltage |" in md
    assert "| `in_service` | int64 | - | 1 | [0, 1] | 1 in service, 0 out of service |" in md
    assert "| `name` | string (UTF-8) | - | \"\" | - | free-text name |" in md


def test_doc_names_every_required_table_and_the_reserved_sections():
    text = DOC.read_text(encoding="utf-8")
    for name in REQUIRED:
        assert f"### `{name}`" in text
    for word in ("format_version", "base_mva", "Reserved for later versions", "dc_node",
                 "dc_branch", "lcc_converter", "`gen`"):
        assert word in text


def test_splice_replaces_only_the_block():
    doc = f"intro\n{BEGIN}\n\nold\n{END}\noutro\n"
    out = splice(doc, "new\n")
    assert out == f"intro\n{BEGIN}\n\nnew\n\n{END}\noutro\n"
    assert generated_block(out) == "new\n"
    with pytest.raises(ValueError, match="markers"):
        splice("no markers here")
