"""Everything that touches files lives here: HDF5 cases and results, scenario TOML, plots."""
from casa_dyn.io.h5case import read_case, write_case, read_case_raw  # noqa: F401
