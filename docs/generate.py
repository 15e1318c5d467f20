"""Refresh the generated column tables of docs/case-format.md from the schema registry.

Run after changing a table schema:  python docs/generate.py
(tests/test_case_format_doc.py fails until the committed document matches.)
"""
from pathlib import Path

from casa_dyn.case.docs import splice

DOC = Path(__file__).with_name("case-format.md")

if __name__ == "__main__":
    DOC.write_text(splice(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {DOC}")
