"""Generate the per-table column reference of docs/case-format.md from the schema registry.

The committed document holds hand-written prose plus one generated block between the
``BEGIN``/``END`` markers below; a test asserts that block equals ``format_markdown()``, so the
documentation cannot drift from the schema.  ``splice`` replaces the block in a document's
text (``docs/generate.py`` applies it to the file).
"""
from __future__ import annotations

from casa_dyn.case import schema as S

BEGIN = "<!-- BEGIN GENERATED TABLES: casa_dyn.case.docs.format_markdown(); do not edit by hand -->"
END = "<!-- END GENERATED TABLES -->"

_DTYPE = {S.INT: "int64", S.FLOAT: "float64", S.STR: "string (UTF-8)"}


def format_markdown() -> str:
    """Markdown for every registered table: description, then one row per column."""
    from casa_dyn.case.tables import REQUIRED

    parts = []
    for t in S.tables().values():
        presence = ("required in every case (may have zero rows)" if t.name in REQUIRED
                    else "optional")
        head = [f"### `{t.name}`", "", _cell(t.doc), "",
                f"Family: {t.family}; since format version {t.since_version}; {presence}.", ""]
        parts.append("\n".join(head + _column_table(t)))
    return "\n\n".join(parts) + "\n"


def _column_table(t: S.Table) -> list[str]:
    with_dyr = any(c.dyr is not None for c in t.columns)
    header = ["column", "dtype", "unit", "default", "range", "doc"] + (["DYR"] if with_dyr else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in t.columns:
        doc = c.doc + (f"; must be an existing `{c.ref}.id`" if c.ref else "")
        if c.name == "id":
            doc += "; unique in the table"
        row = [f"`{c.name}`", _DTYPE[c.dtype], c.unit or "-", _default(c), c.range_text() or "-",
               _cell(doc)]
        if with_dyr:
            row.append("-" if c.dyr is None else str(c.dyr))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _default(c: S.Column) -> str:
    if c.required:
        return "required"
    if c.dtype == S.STR:
        return f'"{c.default}"'
    return f"{c.default:g}" if isinstance(c.default, float) else str(c.default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def splice(document: str, generated: str | None = None) -> str:
    """Return ``document`` with the text between the markers replaced by ``generated``
    (default: ``format_markdown()``)."""
    generated = format_markdown() if generated is None else generated
    head, sep1, rest = document.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not (sep1 and sep2):
        raise ValueError("document lacks the generated-table markers")
    return f"{head}{BEGIN}\n\n{generated}\n{END}{tail}"


def generated_block(document: str) -> str:
    """The generated text currently between the markers of ``document``."""
    _, sep1, rest = document.partition(BEGIN)
    block, sep2, _ = rest.partition(END)
    if not (sep1 and sep2):
        raise ValueError("document lacks the generated-table markers")
    return block[2:-1] if block.startswith("\n\n") and block.endswith("\n") else block


__all__ = ["BEGIN", "END", "format_markdown", "splice", "generated_block"]
