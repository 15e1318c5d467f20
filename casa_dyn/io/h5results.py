"""HDF5 results files (format ``casa_dyn-results``, version 1; docs/results-format.md).

Layout::

    /time_s                 (n_t,)            float64
    /channels/data          (n_t, n_channels) float64, chunked + gzip
    /channels/names, units, kinds (n_channels,) UTF-8
    /channels/element_id    (n_channels,)     int64
    root attributes: format, format_version, status, message, t_stop_s, wall_s,
                     case_name, case_hash, software_version, dt_s, options (JSON),
                     events (JSON), counters (JSON)

Written to a temporary name in the target folder and renamed when complete, so a reader never
sees a half-written file.  Readable with plain h5py (and pandas via ``Results.to_dataframe``).
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from casa_dyn.errors import FileFormatError
from casa_dyn.solver.results import Results

FORMAT_NAME = "casa_dyn-results"
FORMAT_VERSION = 1


def write_results(res: Results, path: str) -> None:
    import h5py

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".h5", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"], a["format_version"] = FORMAT_NAME, FORMAT_VERSION
            a["status"], a["message"] = res.status, res.message
            a["t_stop_s"], a["wall_s"] = float(res.t_stop_s), float(res.wall_s)
            meta = dict(res.meta)
            for key in ("case_name", "case_hash", "software_version"):
                a[key] = str(meta.pop(key, ""))
            a["dt_s"] = float(meta.pop("dt_s", np.nan))
            a["options"] = json.dumps(meta.pop("options", {}))
            a["events"] = json.dumps(meta.pop("events", []))
            a["counters"] = json.dumps({k: int(v) for k, v in res.counters.items()})
            a["extra"] = json.dumps(meta, default=str)
            f.create_dataset("time_s", data=res.t_s)
            g = f.create_group("channels")
            n_t, n_c = res.data.shape
            chunks = (max(1, min(n_t, 1024)), max(1, min(n_c, 64))) if n_t and n_c else None
            g.create_dataset("data", data=res.data, chunks=chunks, compression="gzip" if chunks else None,
                             compression_opts=4 if chunks else None, shuffle=bool(chunks))
            s = h5py.string_dtype("utf-8")
            g.create_dataset("names", data=list(res.names), dtype=s)
            g.create_dataset("units", data=list(res.units), dtype=s)
            g.create_dataset("kinds", data=list(res.kinds), dtype=s)
            g.create_dataset("element_id", data=np.asarray(res.elements, dtype=np.int64))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_results(path: str) -> Results:
    import h5py

    if not os.path.exists(path):
        raise FileFormatError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise FileFormatError(f"{path}: not an HDF5 file")
    with h5py.File(path, "r") as f:
        a = f.attrs
        if a.get("format") != FORMAT_NAME:
            raise FileFormatError(f"{path}: not a casa_dyn results file")
        if int(a.get("format_version", 0)) > FORMAT_VERSION:
            raise FileFormatError(f"{path}: results format version {a['format_version']} is newer than "
                                  f"this casa_dyn reads ({FORMAT_VERSION})")
        g = f["channels"]
        dec = lambda ds: [x.decode() if isinstance(x, bytes) else str(x) for x in ds[()]]  # noqa: E731
        meta = {"case_name": a["case_name"], "case_hash": a["case_hash"],
                "software_version": a["software_version"], "dt_s": float(a["dt_s"]),
                "options": json.loads(a["options"]), "events": json.loads(a["events"]),
                **json.loads(a.get("extra", "{}"))}
        return Results(t_s=f["time_s"][()], data=g["data"][()], names=dec(g["names"]), units=dec(g["units"]),
                       kinds=dec(g["kinds"]), elements=g["element_id"][()], status=str(a["status"]),
                       message=str(a["message"]), t_stop_s=float(a["t_stop_s"]),
                       counters=json.loads(a["counters"]), wall_s=float(a["wall_s"]), meta=meta)
