"""Files of a batch output folder (docs/studies.md, "Output folder").

    DIR/results/<scenario id>.h5    one results file per scenario (docs/results-format.md) with
                                    the study record (id, parameters, metrics) in ``extra``
    DIR/cct/<cct id>.json           one file per CCT bisection chain
    DIR/summary.h5, summary.csv     the summary table(s); ``summary-shard-I-of-N.*`` per shard
    DIR/.partial/<id>.<random>/     work in progress of one attempt (removed when it lands)

Every file appears under its final name in one ``os.replace`` from a private folder of the
attempt that wrote it, so a reader (or a resumed batch) sees a whole file or none; a killed
attempt leaves only its ``.partial`` folder, which the next batch removes.
"""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import tempfile

import numpy as np

RESULTS, CCT, PARTIAL = "results", "cct", ".partial"


def result_path(out_dir: str, sid: str) -> str:
    return os.path.join(out_dir, RESULTS, f"{sid}.h5")


def cct_path(out_dir: str, cid: str) -> str:
    return os.path.join(out_dir, CCT, f"{cid}.json")


def prepare_output(out_dir: str) -> None:
    for sub in (RESULTS, CCT, PARTIAL):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)


def _land(out_dir: str, key: str, final: str, write) -> str:
    """Write through ``write(tmp_path)`` into a private attempt folder, then rename."""
    part = os.path.join(out_dir, PARTIAL)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    for _ in range(5):  # another process may remove the empty .partial folder meanwhile
        os.makedirs(part, exist_ok=True)
        try:
            d = tempfile.mkdtemp(prefix=f"{key}.", dir=part)
            break
        except FileNotFoundError:
            continue
    else:
        raise OSError(f"cannot create a work folder in {part}")
    try:
        tmp = os.path.join(d, os.path.basename(final))
        write(tmp)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return final


def write_scenario_result(out_dir: str, sid: str, res) -> str:
    from casa_dyn.io.h5results import write_results

    return _land(out_dir, sid, result_path(out_dir, sid), lambda p: write_results(res, p))


def write_cct_result(out_dir: str, cid: str, record: dict) -> str:
    def write(p):
        with open(p, "w", encoding="utf-8") as fh:
            json.dump(_jsonable(record), fh, indent=1, sort_keys=True)
    return _land(out_dir, cid, cct_path(out_dir, cid), write)


def read_scenario_record(out_dir: str, sid: str) -> dict | None:
    """The study record stored in a scenario's results file (status, message, parameters,
    metrics), without reading its channels; None if the file is absent or unreadable."""
    import h5py

    path = result_path(out_dir, sid)
    if not os.path.exists(path):
        return None
    try:
        with h5py.File(path, "r") as f:
            a = f.attrs
            rec = json.loads(a["extra"]).get("study")
            if rec is None:
                return None
            rec.update(status=str(a["status"]), message=str(a["message"]), t_stop_s=float(a["t_stop_s"]))
            return _unjson(rec)
    except (OSError, KeyError, ValueError):
        return None


def read_cct_record(out_dir: str, cid: str) -> dict | None:
    path = cct_path(out_dir, cid)
    try:
        with open(path, encoding="utf-8") as fh:
            return _unjson(json.load(fh))
    except (OSError, ValueError):
        return None


def clean_partials(out_dir: str, ids) -> int:
    """Remove the attempt folders of the given ids (left by killed workers or drivers)."""
    part = os.path.join(out_dir, PARTIAL)
    if not os.path.isdir(part):
        return 0
    ids, n = set(ids), 0
    for name in os.listdir(part):
        if name.split(".", 1)[0] in ids:
            shutil.rmtree(os.path.join(part, name), ignore_errors=True)
            n += 1
    remove_empty_partial(out_dir)
    return n


def remove_empty_partial(out_dir: str) -> None:
    try:
        os.rmdir(os.path.join(out_dir, PARTIAL))  # only when empty: other shards may be writing
    except OSError:
        pass


# ------------------------------------------------------------------ summary tables
def write_summary(out_dir: str, stem: str, tables: dict, attrs: dict) -> list[str]:
    """``tables``: {name: (columns, rows as dicts)}.  Writes ``<stem>.h5`` (a group per table,
    one dataset per column) and one CSV per table (``<stem>.csv`` for "scenarios",
    ``<stem>-<name>.csv`` otherwise), each atomically.  Returns the paths written."""
    import h5py

    paths = []

    def write_h5(p):
        with h5py.File(p, "w") as f:
            for k, v in attrs.items():
                f.attrs[k] = v if isinstance(v, (int, float, str)) else json.dumps(v)
            for name, (cols, rows) in tables.items():
                g = f.create_group(name)
                g.attrs["columns"] = json.dumps(cols)
                for c in cols:
                    data = column_array([r.get(c) for r in rows])
                    if data.dtype == object:
                        g.create_dataset(c, data=data.astype(str).tolist(), dtype=h5py.string_dtype("utf-8"))
                    else:
                        g.create_dataset(c, data=data)
    paths.append(_land(out_dir, stem, os.path.join(out_dir, f"{stem}.h5"), write_h5))
    for name, (cols, rows) in tables.items():
        if name != "scenarios" and not rows:
            continue
        fname = f"{stem}.csv" if name == "scenarios" else f"{stem}-{name}.csv"
        paths.append(_land(out_dir, stem, os.path.join(out_dir, fname), lambda p, c=cols, r=rows: _write_csv(p, c, r)))
    return paths


def _write_csv(path, cols, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([_csv_cell(r.get(c)) for c in cols])


def _csv_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def column_array(values) -> np.ndarray:
    """int64 when every value is an int; float64 (NaN for None) when numeric; else UTF-8."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


def _jsonable(v):
    """JSON has no inf/NaN: store them as strings."""
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _unjson(v):
    if isinstance(v, dict):
        return {k: _unjson(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_unjson(x) for x in v]
    if v in ("inf", "-inf", "nan"):
        return float(v)
    return v

