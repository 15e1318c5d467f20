"""Plain text and JSON files of generated documentation (``casa_dyn.study.casa_outcomes``):
read, and write atomically (temporary file in the same folder, then rename)."""
from __future__ import annotations

import json
import os
import tempfile


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def read_text(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def write_text(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_json(path: str):
    return json.loads(read_text(path))


def dumps_json(obj) -> str:
    """The stored form: sorted keys, two-space indent, newline at the end."""
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def write_json(path: str, obj) -> None:
    write_text(path, dumps_json(obj))
