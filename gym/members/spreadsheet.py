"""Cells a spreadsheet shows as text, never runs as a formula (OWASP: CSV injection), and back.

A spreadsheet runs a cell as a formula when it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return, and one that splits on ``;``, ``|`` or a tab (as some locales' CSV import does) turns
whatever follows such a separator, or a line break, inside a cell into a cell of its own. So every
place a cell could start — the start, and after each separator or line break, past any spaces — gets
an apostrophe before it when what follows (past any apostrophes already there) is a formula
character. :func:`cell_restore` takes exactly those apostrophes off again, so an export imports back
unchanged, apostrophes typed by people included.
"""

from __future__ import annotations

import re

#: The characters a spreadsheet reads as the start of a formula.
FORMULA_CHARACTERS = "=+-@\t\r"
#: What can start a new cell inside a cell's text: the separators spreadsheets split on, and line breaks.
CELL_STARTS = ",;|\t\r\n"

_STARTS = re.escape(CELL_STARTS)
_FORMULA = re.escape(FORMULA_CHARACTERS)
# A place a cell could start (nothing before it but one of CELL_STARTS), its spaces, its apostrophes,
# and a formula character next.
_UNSAFE = re.compile(rf"(?<![^{_STARTS}])( *)('*)(?=[{_FORMULA}])")
_NEUTRALISED = re.compile(rf"(?<![^{_STARTS}])( *)'('*)(?=[{_FORMULA}])")


def cell_safe(value: object) -> str:
    """``value`` as text a spreadsheet shows as it is, never as a formula."""
    text = "" if value is None else str(value)
    return _UNSAFE.sub(r"\1'\2", text)


def cell_restore(text: str) -> str:
    """The value :func:`cell_safe` made ``text`` from (the apostrophes it added, and only those, removed)."""
    return _NEUTRALISED.sub(r"\1\2", text)
