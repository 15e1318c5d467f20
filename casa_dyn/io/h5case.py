"""HDF5 case files (format ``casa_dyn-case``; see docs/case-format.md).

Layout: one group per table, one 1-D dataset per column; root attributes ``format``,
``format_version``, ``name``, ``base_mva``, ``freq_hz``, ``source``, ``citation``.
Text columns are variable-length UTF-8.  Files are written to a temporary name and renamed.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from casa_dyn.case.case import FORMAT_NAME, FORMAT_VERSION, Case
from casa_dyn.case import schema as S
from casa_dyn.case.validate import check_case, check_raw
from casa_dyn.errors import CaseError, FileFormatError

_ROOT_ATTRS = ("name", "base_mva", "freq_hz", "source", "citation")


def _h5py():
    import h5py  # imported lazily: keeps `import casa_dyn` fast

    return h5py


def read_case_raw(path: str) -> tuple[dict, dict]:
    """Return ``(attrs, {table: {column: ndarray}})`` exactly as stored, after format checks."""
    h5py = _h5py()
    if not os.path.exists(path):
        raise FileFormatError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FileFormatError(f"{path}: not an HDF5 file")
    try:
        return _read_raw(h5py, path)
    except OSError as e:  # HDF5 signature but unreadable (truncated, corrupt)
        raise FileFormatError(f"{path}: cannot read HDF5 file ({e})") from e


def _read_raw(h5py, path: str) -> tuple[dict, dict]:
    with h5py.File(path, "r") as f:
        attrs = {k: _attr(v) for k, v in f.attrs.items()}
        fmt = attrs.get("format")
        if fmt != FORMAT_NAME:
            raise FileFormatError(
                f"{path}: not a casa_dyn case (root attribute 'format' is {fmt!r}, "
                f"expected {FORMAT_NAME!r})")
        ver = attrs.get("format_version")
        if not isinstance(ver, (int, np.integer)) or ver < 1:
            raise FileFormatError(f"{path}: root attribute 'format_version' is {ver!r}")
        if ver > FORMAT_VERSION:
            raise FileFormatError(
                f"{path}: case format version {ver} is newer than this casa_dyn reads "
                f"(up to {FORMAT_VERSION}); upgrade casa_dyn")
        raw = {}
        for tname, grp in f.items():
            if not isinstance(grp, h5py.Group):
                raise FileFormatError(f"{path}: '/{tname}' is not a group (each table is a group "
                                      "of 1-D column datasets)")
            raw[tname] = {}
            for cname, ds in grp.items():
                if not isinstance(ds, h5py.Dataset):
                    raise FileFormatError(f"{path}: '/{tname}/{cname}' is not a dataset (each "
                                          "column is a 1-D dataset)")
                data = ds[()]
                if ds.dtype.kind == "O" or h5py.check_string_dtype(ds.dtype) is not None:
                    data = np.array([x.decode() if isinstance(x, bytes) else x for x in np.atleast_1d(data)],
                                    dtype=object)
                raw[tname][cname] = np.asarray(data)
    return attrs, raw


def _attr(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.generic):
        return v.item()
    return v


def read_case(path: str, validate: bool = True) -> Case:
    """Read and (by default) validate a case; raise ``CaseError`` naming every problem."""
    attrs, raw = read_case_raw(path)
    problems = check_raw(raw)
    from casa_dyn.errors import Problem

    for key in ("name", "base_mva", "freq_hz"):
        if key not in attrs:
            problems.append(Problem("(root)", None, key, "required root attribute is missing"))
        elif key != "name" and (isinstance(attrs[key], bool)
                                or not isinstance(attrs[key], (int, float))):
            problems.append(Problem("(root)", None, key,
                                    f"must be a number, found {attrs[key]!r}"))
    if problems:
        raise CaseError(problems, path)
    schemas = S.tables()
    from casa_dyn.case.case import normalize_table

    tables = {t: normalize_table(schemas[t], cols) for t, cols in raw.items()}
    case = Case(name=str(attrs["name"]), base_mva=float(attrs["base_mva"]),
                freq_hz=float(attrs["freq_hz"]), source=str(attrs.get("source", "")),
                citation=str(attrs.get("citation", "")), tables=tables,
                format_version=int(attrs["format_version"]))
    if validate:
        problems = check_case(case)
        if problems:
            raise CaseError(problems, path)
    return case


def write_case(case: Case, path: str) -> None:
    """Write atomically (temporary file in the same folder, then rename)."""
    h5py = _h5py()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".h5", dir=folder)
    os.close(fd)
    try:
        # fixed creation parameters so the same case gives the same bytes of data
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["format"] = FORMAT_NAME
            f.attrs["format_version"] = np.int64(case.format_version)
            f.attrs["name"] = case.name
            f.attrs["base_mva"] = float(case.base_mva)
            f.attrs["freq_hz"] = float(case.freq_hz)
            f.attrs["source"] = case.source
            f.attrs["citation"] = case.citation
            for tname in sorted(case.tables):
                grp = f.create_group(tname, track_order=True)
                for cname, col in case.tables[tname].items():
                    if col.dtype == object:
                        grp.create_dataset(cname, data=[str(x) for x in col],
                                           dtype=h5py.string_dtype("utf-8"))
                    else:
                        grp.create_dataset(cname, data=col)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
