"""Shared text handling of PSS/E RAW and DYR files: the field splitter and the located error.

PSS/E free-format data (Program Operation Manual, "Power Flow Raw Data File Contents" and
"Dynamics Data File", as restated in the field documentation of GridCal's RAW reader and the
``power_flow_data`` crate): fields are separated by commas or blanks; two commas in a row
leave the field between them empty, which means "use the default"; character data are
enclosed in single quotes (double quotes are accepted too); a slash outside quotes ends the
data of the line (what follows is a comment) and, in a DYR file, ends the record.
"""
from __future__ import annotations

from dataclasses import dataclass

from casa_dyn.errors import FileFormatError

QUOTES = "'\""


class PsseFormatError(FileFormatError):
    """A PSS/E RAW or DYR file that cannot be read: names the file, the line, the record type
    and what was expected there."""

    def __init__(self, path: str, line: int | None, record: str, message: str):
        self.path, self.line, self.record = path, line, record
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {record}: {message}")


@dataclass(frozen=True)
class Field:
    """One field of a data line: its text (``None`` when left empty) and whether it was
    quoted (quoted text is never a number)."""

    text: str | None
    quoted: bool = False
    line: int = 0


def split_fields(text: str, line: int = 0) -> tuple[list[Field], str | None]:
    """Split one line into fields.  Returns ``(fields, comment)``: ``comment`` is the text
    after a ``/`` that ended the data (``None`` when there was no slash; in a DYR file the
    slash ends a record).  A trailing comma does not create an empty last field.  Raises
    ``ValueError`` on an open quote or a quote inside an unquoted field."""
    fields: list[Field] = []
    buf: list[str] | None = None
    since_comma = False          # a value was given since the last comma (or line start)
    comment = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in QUOTES:
            if buf is not None:
                raise ValueError(f"quote inside the unquoted field {''.join(buf)!r}")
            end = text.find(c, i + 1)
            if end < 0:
                raise ValueError("a quoted field is not closed")
            fields.append(Field(text[i + 1:end], True, line))
            since_comma = True
            i = end + 1
            continue
        if c == "/":
            comment = text[i + 1:]
            break
        if c == ",":
            if buf is not None:
                fields.append(Field("".join(buf), False, line))
                buf, since_comma = None, True
            if not since_comma:
                fields.append(Field(None, False, line))
            since_comma = False
        elif c.isspace():
            if buf is not None:
                fields.append(Field("".join(buf), False, line))
                buf, since_comma = None, True
        else:
            buf = [c] if buf is None else buf + [c]
        i += 1
    if buf is not None:
        fields.append(Field("".join(buf), False, line))
    return fields, comment


def read_text(path: str) -> list[str]:
    """The lines of a text file (UTF-8, or Latin-1 as PSS/E writes on Windows)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read ({e.strerror or e})") from None
    if b"\x00" in data[:4096]:
        raise FileFormatError(f"{path}: a binary file, not a PSS/E text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.splitlines()


def to_int(f: Field) -> int:
    """Integer value of a field; PSS/E writes some integers as ``1.0``."""
    if f.quoted or f.text is None or "_" in f.text:
        raise ValueError
    try:
        v = int(f.text)
    except ValueError:
        x = float(f.text)
        if x != x or abs(x) == float("inf") or x != int(x):
            raise ValueError from None
        v = int(x)
    if abs(v) > 2**31 - 1:  # PSS/E integers are 32-bit
        raise ValueError
    return v


def to_float(f: Field) -> float:
    if f.quoted or f.text is None or "_" in f.text:
        raise ValueError
    v = float(f.text.replace("D", "E").replace("d", "e"))  # Fortran exponents
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError
    return v
