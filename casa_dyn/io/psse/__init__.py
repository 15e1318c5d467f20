"""PSS/E RAW (versions 32-35) and DYR import: ``psse_to_case(raw, dyr)`` -> ``(Case, report)``.

``raw`` and ``dyr`` read the files into records; ``convert`` (network), ``convert_xf``
(transformers), ``convert_dc`` (DC lines) and ``convert_dyn`` (dynamic models) map the records
onto the casa_dyn tables.  Mapping and approximations: docs/psse-import.md.
"""
from casa_dyn.io.psse._text import PsseFormatError  # noqa: F401
from casa_dyn.io.psse.convert import ConvertOptions, psse_to_case, stored_voltage_mismatch  # noqa: F401
from casa_dyn.io.psse.dyr import read_dyr  # noqa: F401
from casa_dyn.io.psse.raw import read_raw  # noqa: F401
