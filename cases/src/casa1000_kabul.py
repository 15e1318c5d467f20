"""CASA-1000 what-if: the original three-terminal design with a 300 MW Kabul tap.

The 2011-2013 CASA-1000 design had a 300 MW HVDC converter at Kabul (REFERENCE.md 1.1 C10;
dropped by 2016: as built the link is two-terminal).  This case is ``casa1000.build`` with that
tap added (every number, its source and the assumptions are in ``casa1000.py``):

* Kabul inverter, 0.3 kA per pole (about 300 MW for the bipole), current control, on the
  Kabul 220 kV bus 437 km from Sangtuda along the line (the line is two T-model segments);
* a weak Afghan AC system at Kabul: short-circuit ratio 2.5 on 300 MW, a stiff-frequency
  source behind it, Kabul load 300 MW;
* Nowshera, still the voltage-setting terminal, receives the rest (about 975 MW).
"""
from __future__ import annotations

import importlib.util
import pathlib

_spec = importlib.util.spec_from_file_location(
    "casa_dyn_case_src_casa1000", pathlib.Path(__file__).with_name("casa1000.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)

NAME = base.NAME + "_kabul"


def build():
    return base.build(kabul=True)


if __name__ == "__main__":
    print(build().content_hash())
