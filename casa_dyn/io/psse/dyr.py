"""Reader of PSS/E DYR dynamic-data files into records.

A DYR record is ``IBUS 'MODEL' ID ICON(1..m) CON(1..n) /``: the bus of the machine, the model
name in quotes, the machine identifier, the integer ICONs and then the real CONs, in the order
of the PSS/E Model Library; a ``/`` ends the record, which may span several lines, and the rest
of that line is a comment.  Two-terminal DC line models name the line instead of a bus
(``'NAME' 'CDC4T' CON(1..22) /``).  (PSS/E Program Operation Manual, "Dynamics Data File";
the same record form is read by ANDES' ``andes/io/psse-dyr.yaml`` and by STEPS.)

ANDES writes its own timed events into DYR files it ships (``Line 'Toggle' Line_1 1.0 /``: an
element type, then ``'Toggle'``, ``'Alter'`` or ``'Fault'``); they are not PSS/E data.  They are
read as records with ``andes_event`` set, so the conversion can skip and report them (the events
of a casa_dyn run come from its scenario).

This module only splits the file into records; what the fields mean is decided per model by
``casa_dyn.io.psse.convert_dyn`` from the model tables' ``dyr`` positions.
"""
from __future__ import annotations

from dataclasses import dataclass

from casa_dyn.io.psse._text import Field, PsseFormatError, read_text, split_fields, to_float, to_int


@dataclass(frozen=True)
class DyrRecord:
    line: int                  # line of the record's first field
    target: int | str          # bus number, or the quoted name of a DC line
    model: str                 # model name, upper case
    fields: tuple[Field, ...]  # the fields after the model name (ID, ICONs, CONs)
    andes_event: bool = False  # ANDES's timed-event record, not PSS/E data (module docstring)

    @property
    def where(self) -> str:
        return f"bus {self.target}" if isinstance(self.target, int) else f"'{self.target}'"


def read_dyr(path: str) -> list[DyrRecord]:
    """All records of a DYR file, in file order."""
    records: list[DyrRecord] = []
    pending: list[Field] = []
    start = 0
    for lineno, text in enumerate(read_text(path), start=1):
        try:
            fields, comment = split_fields(text, lineno)
        except ValueError as e:
            raise PsseFormatError(path, lineno, "DYR record", str(e)) from None
        if fields and not pending:
            start = lineno
        pending += fields
        if comment is not None and pending:  # a slash ends the record
            records.append(_record(path, start, pending))
            pending = []
    if pending:
        raise PsseFormatError(path, start, "DYR record",
                              "the record is not ended by '/' before the end of the file")
    return records


#: ANDES's timed-event models (its TimedEvent group) as they appear in its DYR files
ANDES_EVENTS = ("TOGGLE", "ALTER", "FAULT")


def _record(path: str, line: int, fields: list[Field]) -> DyrRecord:
    first = fields[0]
    if _is_andes_event(fields):
        return DyrRecord(line, first.text.strip(), fields[1].text.strip().upper(),
                         tuple(fields[2:]), andes_event=True)
    if first.quoted:
        target: int | str = first.text.strip()
    else:
        try:
            target = to_int(first)
        except (ValueError, OverflowError):
            raise PsseFormatError(path, first.line, "DYR record",
                                  f"field 1: expected a bus number (or a DC line name in quotes), "
                                  f"found {first.text!r}") from None
        if target <= 0:
            raise PsseFormatError(path, first.line, "DYR record",
                                  f"field 1: expected a positive bus number, found {target}")
    if len(fields) < 2 or fields[1].text is None or not fields[1].text.strip():
        raise PsseFormatError(path, line, "DYR record",
                              "field 2: expected the model name in quotes")
    name = fields[1].text.strip()
    if not fields[1].quoted and _is_number(fields[1]):
        raise PsseFormatError(path, fields[1].line, "DYR record",
                              f"field 2: expected the model name in quotes, found the number {name}")
    return DyrRecord(line, target, name.upper(), tuple(fields[2:]))


def _is_andes_event(fields: list[Field]) -> bool:
    first = fields[0]
    return (len(fields) >= 2 and not first.quoted and bool(first.text)
            and first.text.strip().isidentifier() and fields[1].quoted
            and fields[1].text.strip().upper() in ANDES_EVENTS)


def _is_number(f: Field) -> bool:
    try:
        to_float(f)
        return True
    except ValueError:
        return False


