"""Rebuild the reference cases ``cases/<name>.h5`` from their readable sources in this folder.

Run from anywhere: ``python cases/src/build_all.py``.  Each case is built, validated, written
with ``casa_dyn.io.write_case``, read back and checked to hash the same as what was built.
``tests/test_cases.py`` checks that the committed files still match these sources.
"""
from __future__ import annotations

import importlib.util
import pathlib
import sys

SRC = pathlib.Path(__file__).resolve().parent
CASES = SRC.parent
#: source modules in this folder, one case each
CASE_MODULES = ("wscc9", "kundur2area", "ieee39", "cigre_hvdc", "casa1000", "casa1000_kabul")

if str(CASES.parent) not in sys.path:  # let the script run from a checkout without installing
    sys.path.insert(0, str(CASES.parent))

from casa_dyn.case.validate import validate  # noqa: E402
from casa_dyn.io.h5case import read_case, write_case  # noqa: E402


def load_source(name: str):
    """Import ``cases/src/<name>.py`` by path (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"casa_dyn_case_src_{name}", SRC / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_one(name: str) -> str:
    case = validate(load_source(name).build())
    path = CASES / f"{name}.h5"
    write_case(case, str(path))
    again = read_case(str(path))
    if again.content_hash() != case.content_hash():
        raise RuntimeError(f"{path}: content read back differs from the case built")
    counts = ", ".join(f"{case.n(t)} {t}" for t in
                       ("bus", "line", "transformer", "generator", "load", "shunt"))
    return f"{path.relative_to(CASES.parent)}: {counts}; sha256 {case.content_hash()[:16]}"


def main() -> None:
    for name in CASE_MODULES:
        print(build_one(name))


if __name__ == "__main__":
    main()
