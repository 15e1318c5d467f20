"""Field layouts of the PSS/E RAW records, versions 32 to 35, with PSS/E's defaults.

Sources (facts only): the PSS/E Program Operation Manual's RAW record descriptions as restated
in the ``power_flow_data`` crate documentation (docs.rs, v33 structs: ``Bus``, ``Load``,
``Generator``, ``Branch``, ``Transformer``, ``TwoTerminalDCLine``, ``DCLineID``,
``ACConverter``, ``DCBus``, ``DCLink``, ``SwitchedShunt``), GridCal's RAW reader
(``SanPen/GridCal``, ``src/GridCalEngine/IO/raw/devices/*.py``: per-version layouts of loads,
branches, transformers, switched shunts, two-terminal DC lines; the v35 RAWX field lists),
powsybl's PSS/E reader (multi-terminal DC link rows with ``MET``) and the PSS/E v35 "minimum
RAW case" example (trailing fields left to their defaults, empty fields between commas).

Version differences used here:

* v33 adds the load ``INTRPT`` and the transformer ``VECGRP``;
* v34 adds the system-wide data section, branch ``NAME`` and 12 ratings, the system switching
  device section, transformer ``ZCOD``, winding ``NODE`` and 12 ratings, load ``DGENP``,
  ``DGENQ``, ``DGENM``, and the substation section;
* v35 adds generator ``NREG`` and ``BASLOD``, load ``LOADTYPE``, switched-shunt ``ID``,
  ``NREG`` and per-block status, and the node numbers ``NDR``/``NDI`` of two-terminal DC
  lines.  (Switched shunts of v34 files are read with or without ``NREG``, found from the
  position of the quoted ``RMIDNT``.)

A layout is a string of ``NAME:type`` items (``i`` integer, ``f`` real, ``s`` text), each with
``=default``, ``!`` (required, no default) or ``=?`` (a default that depends on other data,
resolved by the converter: the field is ``None``).
"""
from __future__ import annotations

REQUIRED = object()


def _parse(spec: str) -> tuple[tuple[str, str, object], ...]:
    out = []
    for item in spec.split():
        name, rest = item.split(":")
        if rest.endswith("!"):
            out.append((name, rest[0], REQUIRED))
            continue
        typ, _, dflt = rest.partition("=")
        if dflt == "?":
            value = None
        elif typ == "s":
            value = dflt
        elif typ == "i":
            value = int(dflt)
        else:
            value = float(dflt)
        out.append((name, typ, value))
    return tuple(out)


def _rates(prefix: str, first: int, last: int) -> str:
    return " ".join(f"{prefix}{k}:f=0" for k in range(first, last + 1))


_OWN = "O1:i=? F1:f=1 O2:i=0 F2:f=1 O3:i=0 F3:f=1 O4:i=0 F4:f=1"

BUS = _parse("I:i! NAME:s= BASKV:f=0 IDE:i=1 AREA:i=1 ZONE:i=1 OWNER:i=1 VM:f=1 VA:f=0 "
             "NVHI:f=1.1 NVLO:f=0.9 EVHI:f=1.1 EVLO:f=0.9")

_LOAD32 = ("I:i! ID:s=1 STATUS:i=1 AREA:i=? ZONE:i=? PL:f=0 QL:f=0 IP:f=0 IQ:f=0 YP:f=0 "
           "YQ:f=0 OWNER:i=? SCALE:i=1")
LOAD = {32: _parse(_LOAD32), 33: _parse(_LOAD32 + " INTRPT:i=0"),
        34: _parse(_LOAD32 + " INTRPT:i=0 DGENP:f=0 DGENQ:f=0 DGENM:i=0"),
        35: _parse(_LOAD32 + " INTRPT:i=0 DGENP:f=0 DGENQ:f=0 DGENM:i=0 LOADTYPE:s=")}

FIXED_SHUNT = _parse("I:i! ID:s=1 STATUS:i=1 GL:f=0 BL:f=0")

_GEN_HEAD = "I:i! ID:s=1 PG:f=0 QG:f=0 QT:f=9999 QB:f=-9999 VS:f=1 IREG:i=0"
_GEN_MID = "MBASE:f=? ZR:f=0 ZX:f=1 RT:f=0 XT:f=0 GTAP:f=1 STAT:i=1 RMPCT:f=100 PT:f=9999 PB:f=-9999"
GENERATOR = {v: _parse(f"{_GEN_HEAD} {_GEN_MID} {_OWN} WMOD:i=0 WPF:f=1") for v in (32, 33, 34)}
GENERATOR[35] = _parse(f"{_GEN_HEAD} NREG:i=0 {_GEN_MID} BASLOD:i=0 {_OWN} WMOD:i=0 WPF:f=1")

_BR_HEAD = "I:i! J:i! CKT:s=1 R:f=0 X:f! B:f=0"
_BR_TAIL = f"GI:f=0 BI:f=0 GJ:f=0 BJ:f=0 ST:i=1 MET:i=1 LEN:f=0 {_OWN}"
BRANCH = {v: _parse(f"{_BR_HEAD} {_rates('RATE', 1, 3)} {_BR_TAIL}") for v in (32, 33)}
BRANCH.update({v: _parse(f"{_BR_HEAD} NAME:s= {_rates('RATE', 1, 12)} {_BR_TAIL}")
               for v in (34, 35)})

SWITCHING_DEVICE = _parse(f"I:i! J:i! CKT:s=1 X:f=0.0001 {_rates('RATE', 1, 12)} STAT:i=1 "
                          "NSTAT:i=1 MET:i=1 STYPE:i=1 NAME:s=")

_XF1 = "I:i! J:i! K:i=0 CKT:s=1 CW:i=1 CZ:i=1 CM:i=1 MAG1:f=0 MAG2:f=0 NMETR:i=2 NAME:s= STAT:i=1"
XF_LINE1 = {32: _parse(f"{_XF1} {_OWN}"), 33: _parse(f"{_XF1} {_OWN} VECGRP:s="),
            34: _parse(f"{_XF1} {_OWN} VECGRP:s= ZCOD:i=0")}
XF_LINE1[35] = XF_LINE1[34]
XF_LINE2_2W = _parse("R12:f=0 X12:f! SBASE12:f=?")
XF_LINE2_3W = _parse("R12:f=0 X12:f! SBASE12:f=? R23:f=0 X23:f! SBASE23:f=? R31:f=0 X31:f! "
                     "SBASE31:f=? VMSTAR:f=1 ANSTAR:f=0")
_WIND_TAIL = "RMA:f=1.1 RMI:f=0.9 VMA:f=1.1 VMI:f=0.9 NTP:i=33 TAB:i=0 CR:f=0 CX:f=0 CNXA:f=0"
WINDING = {v: _parse(f"WINDV:f=? NOMV:f=0 ANG:f=0 {_rates('RATE', 1, 3)} COD:i=0 CONT:i=0 "
                     f"{_WIND_TAIL}") for v in (32, 33)}
WINDING.update({v: _parse(f"WINDV:f=? NOMV:f=0 ANG:f=0 {_rates('RATE', 1, 12)} COD:i=0 "
                          f"CONT:i=0 NODE:i=0 {_WIND_TAIL}") for v in (34, 35)})
WINDING_LAST_2W = _parse("WINDV:f=? NOMV:f=0")

AREA = _parse("I:i! ISW:i=0 PDES:f=0 PTOL:f=10 ARNAME:s=")
ZONE = _parse("I:i! ZONAME:s=")
OWNER = _parse("I:i! OWNAME:s=")

DC2_LINE1 = _parse("NAME:s! MDC:i=0 RDC:f! SETVL:f! VSCHD:f! VCMOD:f=0 RCOMP:f=0 DELTI:f=0 "
                   "METER:s=I DCVMIN:f=0 CCCITMX:i=20 CCCACC:f=1")
_DC2_CONV = ("IP:i! NB:i! ANMX:f! ANMN:f! RC:f! XC:f! EBAS:f! TR:f=1 TAP:f=1 TMX:f=1.5 "
             "TMN:f=0.51 STP:f=0.00625 IC:i=0")
DC2_CONVERTER = {v: _parse(f"{_DC2_CONV} IF:i=0 IT:i=0 ID:s=1 XCAP:f=0") for v in (32, 33, 34)}
DC2_CONVERTER[35] = _parse(f"{_DC2_CONV} ND:i=0 IF:i=0 IT:i=0 ID:s=1 XCAP:f=0")

MTDC_LINE1 = _parse("NAME:s! NCONV:i! NDCBS:i! NDCLN:i! MDC:i=0 VCONV:i! VCMOD:f=0 VCONVN:i=0")
MTDC_CONVERTER = _parse("IB:i! N:i! ANGMX:f! ANGMN:f! RC:f! XC:f! EBAS:f! TR:f=1 TAP:f=1 "
                        "TPMX:f=1.5 TPMN:f=0.51 TSTP:f=0.00625 SETVL:f! DCPF:f=1 MARG:f=0 "
                        "CNVCOD:i=1")
MTDC_BUS = _parse("IDC:i! IB:i=0 AREA:i=1 ZONE:i=1 DCNAME:s= IDC2:i=0 RGRND:f=0 OWNER:i=1")
MTDC_LINK = _parse("IDC:i! JDC:i! DCCKT:s=1 MET:i=1 RDC:f! LDC:f=0")

_SWSH_TAIL = "RMPCT:f=100 RMIDNT:s= BINIT:f=0"
SWITCHED_SHUNT = {
    "v33": _parse(f"I:i! MODSW:i=1 ADJM:i=0 STAT:i=1 VSWHI:f=1 VSWLO:f=1 SWREG:i=0 {_SWSH_TAIL}"),
    "v34": _parse(f"I:i! MODSW:i=1 ADJM:i=0 STAT:i=1 VSWHI:f=1 VSWLO:f=1 SWREG:i=0 NREG:i=0 "
                  f"{_SWSH_TAIL}"),
    "v35": _parse(f"I:i! ID:s=1 MODSW:i=1 ADJM:i=0 STAT:i=1 VSWHI:f=1 VSWLO:f=1 SWREG:i=0 "
                  f"NREG:i=0 {_SWSH_TAIL}"),
}

#: records read only to count them (one line each): the leading fields that are read
FACTS = _parse("NAME:s= I:i=0 J:i=0 MODE:i=1")
VSC_LINE1 = _parse("NAME:s= MDC:i=1")
ONE_LINE_COUNTED = _parse("I:i=0")

#: section order of each version (a section comment "BEGIN ... DATA" takes precedence)
_ORDER_33 = ("bus", "load", "fixed_shunt", "generator", "branch", "transformer", "area",
             "two_terminal_dc", "vsc_dc", "impedance_correction", "multi_terminal_dc",
             "multi_section_line", "zone", "inter_area", "owner", "facts", "switched_shunt",
             "gne", "induction_machine")
_ORDER_34 = ("system_wide", "bus", "load", "fixed_shunt", "generator", "branch",
             "switching_device", "transformer") + _ORDER_33[6:] + ("substation",)
SECTION_ORDER = {32: _ORDER_33[:-1], 33: _ORDER_33, 34: _ORDER_34, 35: _ORDER_34}

#: words of a "BEGIN ... DATA" comment that name a section (first match wins, so more
#: specific phrases come first)
SECTION_WORDS = (
    ("NON-TRANSFORMER", "branch"), ("SYSTEM-WIDE", "system_wide"), ("SYSTEM WIDE", "system_wide"),
    ("SYSTEM SWITCHING", "switching_device"), ("SUBSTATION", "substation"),
    ("FIXED", "fixed_shunt"), ("SWITCHED SHUNT", "switched_shunt"),
    ("TWO-TERMINAL", "two_terminal_dc"), ("TWO TERMINAL", "two_terminal_dc"),
    ("MULTI-TERMINAL", "multi_terminal_dc"), ("MULTI TERMINAL", "multi_terminal_dc"),
    ("MULTI-SECTION", "multi_section_line"), ("MULTI SECTION", "multi_section_line"),
    ("VSC", "vsc_dc"), ("VOLTAGE SOURCE", "vsc_dc"), ("IMPEDANCE CORRECTION", "impedance_correction"),
    ("INTER-AREA", "inter_area"), ("INTER AREA", "inter_area"), ("FACTS", "facts"),
    ("GNE", "gne"), ("INDUCTION", "induction_machine"), ("TRANSFORMER", "transformer"),
    ("BRANCH", "branch"), ("GENERATOR", "generator"), ("LOAD", "load"), ("SHUNT", "fixed_shunt"),
    ("AREA", "area"), ("ZONE", "zone"), ("OWNER", "owner"), ("BUS", "bus"),
)

#: section key -> record name used in messages and reports
RECORD_NAMES = {
    "system_wide": "system-wide data", "bus": "bus", "load": "load",
    "fixed_shunt": "fixed shunt", "generator": "generator", "branch": "branch",
    "switching_device": "system switching device", "transformer": "transformer",
    "area": "area", "two_terminal_dc": "two-terminal DC line", "vsc_dc": "VSC DC line",
    "impedance_correction": "impedance correction table",
    "multi_terminal_dc": "multi-terminal DC line", "multi_section_line": "multi-section line",
    "zone": "zone", "inter_area": "inter-area transfer", "owner": "owner",
    "facts": "FACTS device", "switched_shunt": "switched shunt", "gne": "GNE device",
    "induction_machine": "induction machine", "substation": "substation",
}
