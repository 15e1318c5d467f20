"""HDF5 modal-analysis files (format ``casa_dyn-modes``, version 1; docs/modes.md).

Layout::

    /eigenvalues            (m,)        complex128, 1/s
    /freq_hz, /zeta         (m,)        float64
    /participation          (n_x, m)    complex64 p_ki = phi_ki psi_ik (each column sums to 1)
    /speed_shape            (n_u, m)    complex128 omega entries of phi, largest = 1 at 0 deg
    /states/names           (n_x,)      UTF-8, /states/unit (n_x,) int64 (machine, -1 = none)
    /machines/gen_id        (n_u,)      int64, /machines/speed_row (n_u,) int64
    /right, /left           (n_x, m)    complex128, only when written with ``vectors=True``
    root attributes: format, format_version, case_name, method, complete, band_hz, zeta_max,
                     software_version, summary (JSON), table (JSON: the least-damped modes)

Complex datasets are h5py's native complex type (an HDF5 compound of ``r`` and ``i``).  Written
to a temporary name and renamed when complete.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from casa_dyn.errors import FileFormatError

FORMAT_NAME = "casa_dyn-modes"
FORMAT_VERSION = 1


def write_modes(res, path: str, table: list | None = None, vectors: bool = False) -> None:
    """Write a ``study.modes.ModalResult`` (and the mode table shown to the user)."""
    import h5py

    import casa_dyn

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".h5", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            a = f.attrs
            a["format"], a["format_version"] = FORMAT_NAME, FORMAT_VERSION
            a["case_name"], a["method"] = res.case_name, res.method
            a["complete"], a["zeta_max"] = bool(res.complete), float(res.zeta_max)
            a["band_hz"] = np.asarray(res.band_hz, dtype=float)
            a["software_version"] = casa_dyn.__version__
            a["summary"] = json.dumps(res.summary())
            a["table"] = json.dumps(table or [])
            f.create_dataset("eigenvalues", data=np.asarray(res.values, dtype=np.complex128))
            f.create_dataset("freq_hz", data=res.freq_hz)
            f.create_dataset("zeta", data=res.zeta)
            _matrix(f, "participation", res.participation.astype(np.complex64))
            _matrix(f, "speed_shape", res.speed_shape.astype(np.complex128))
            if vectors:
                _matrix(f, "right", np.asarray(res.right, dtype=np.complex128))
                _matrix(f, "left", np.asarray(res.left, dtype=np.complex128))
            s = f.create_group("states")
            s.create_dataset("names", data=list(res.state_names), dtype=h5py.string_dtype("utf-8"))
            s.create_dataset("unit", data=np.asarray(res.state_unit, dtype=np.int64))
            m = f.create_group("machines")
            m.create_dataset("gen_id", data=np.asarray(res.gen_ids, dtype=np.int64))
            m.create_dataset("speed_row", data=np.asarray(res.speed_rows, dtype=np.int64))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _matrix(f, name, data):
    rows, cols = data.shape
    chunks = (max(1, min(rows, 256)), max(1, min(cols, 256))) if rows and cols else None
    f.create_dataset(name, data=data, chunks=chunks, compression="gzip" if chunks else None,
                     compression_opts=4 if chunks else None)


def read_modes(path: str) -> dict:
    """Everything in a modes file as plain arrays (root attributes under ``"attrs"``)."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FileFormatError(f"{path}: not an HDF5 file ({e})") from None
    with f:
        if f.attrs.get("format") != FORMAT_NAME:
            raise FileFormatError(f"{path}: not a casa_dyn modes file")
        if int(f.attrs["format_version"]) > FORMAT_VERSION:
            raise FileFormatError(f"{path}: modes format version {f.attrs['format_version']} is newer "
                                  f"than this casa_dyn reads ({FORMAT_VERSION})")
        out = {k: f[k][()] for k in ("eigenvalues", "freq_hz", "zeta", "participation", "speed_shape")}
        for k in ("right", "left"):
            if k in f:
                out[k] = f[k][()]
        out["state_names"] = [s.decode() if isinstance(s, bytes) else s for s in f["states/names"][()]]
        out["state_unit"] = f["states/unit"][()]
        out["gen_id"] = f["machines/gen_id"][()]
        out["speed_row"] = f["machines/speed_row"][()]
        attrs = {k: (v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v) for k, v in f.attrs.items()}
        for k in ("summary", "table"):
            attrs[k] = json.loads(attrs[k])
        out["attrs"] = attrs
    return out
