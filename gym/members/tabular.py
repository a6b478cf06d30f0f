"""Reading a file someone exported from another program: its text, its table, its columns, its dates.

Shared by the member import and the past-results import (``gym/workouts/result_imports.py``). The
file is read as it comes (UTF-8 with or without a byte-order mark, Excel's UTF-16 "Unicode text";
comma, semicolon or tab), each column is matched to what it holds from its header by a list of
synonyms (the person importing can change every match), and dates are read in any common format,
day and month in the order the file itself shows (31/12/1990 can only be day first), or the order
the person chose when no date in the file decides it.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gym.members.spreadsheet import FORMULA_CHARACTERS, cell_restore

#: Bounds on one file (carried, base64, from the upload to the import inside Django's 2.5 MB post limit).
MAX_BYTES = 1024 * 1024
MAX_COLUMNS = 60
#: A cell shown in a message or a preview is cut to this many characters.
SHOWN = 60


class ImportRefused(Exception):
    """The file as a whole cannot be read (size, encoding, shape): nothing is looked at further."""


@dataclass(frozen=True)
class Problem:
    """Why one cell of a row (or the row itself, ``column`` empty) cannot be imported."""

    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.column} " if self.column else ""
        return f"{where}{shown(self.value)!r}: {self.message}" if self.value else f"{where}{self.message}".strip()


def shown(value: str) -> str:
    """A cell as a message shows it: control characters dropped, cut to SHOWN characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


@dataclass
class Table:
    """A file's header (as written) and its rows (lists of cells), with each row's line in the file."""

    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)

    def samples(self, index: int, count: int = 3) -> list[str]:
        """The first few non-empty values of a column, to show next to its mapping."""
        found: list[str] = []
        for _, cells in self.rows:
            if index < len(cells) and cells[index].strip() and len(found) < count:
                found.append(shown(cells[index].strip()))
        return found


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark or none) or UTF-16 with its byte-order mark."""
    if len(data) > MAX_BYTES:
        raise ImportRefused("The file is larger than 1 MB: split it into smaller files.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRefused("The file says it is UTF-16 text but is not: save it as “CSV UTF-8”.") from None
    if data.startswith(b"PK\x03\x04"):
        raise ImportRefused(
            "The file is an Excel workbook (.xlsx), not a CSV file: in your spreadsheet program, save it as "
            "“CSV UTF-8” and upload that."
        )
    if b"\x00" in data:
        raise ImportRefused("The file is not a CSV file (it holds binary data): save it as “CSV UTF-8”.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            "The file is not UTF-8 text. In your spreadsheet program, save it as “CSV UTF-8” and try again."
        ) from None


def read_table(data: bytes, *, max_rows: int) -> Table:
    """The file's header and rows; blank lines are skipped (spreadsheets leave them at the end)."""
    text = decode(data)
    if not text.strip():
        raise ImportRefused("The file is empty.")
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = max("\t;,", key=first_line.count) if any(c in first_line for c in "\t;,") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [" ".join(cell.split()) for cell in next(reader)]
        table = Table(header)
        for cells in reader:
            if any(cell.strip() for cell in cells):
                table.rows.append((reader.line_num, cells))
                if len(table.rows) > max_rows:
                    raise ImportRefused(f"The file has more than {max_rows} rows: import at most {max_rows} at a time.")
    except csv.Error as exc:
        raise ImportRefused(f"The file is not readable as CSV: {exc}.") from None
    if not any(header):
        raise ImportRefused("The first line must name the columns; it is empty.")
    if len(header) > MAX_COLUMNS:
        raise ImportRefused(f"The file has {len(header)} columns; at most {MAX_COLUMNS} can be read.")
    if not table.rows:
        raise ImportRefused("The file has a header but no rows.")
    return table


def normal(header: str) -> str:
    """A header as synonyms are written: lower case, letters and digits only ("E-mail Address" is emailaddress)."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


def guess_mapping(header: list[str], synonyms: Mapping[str, Iterable[str]]) -> list[str]:
    """For each column, the field its header names ('' when none, or when an earlier column took it)."""
    lookup = {normal(word): target for target, words in synonyms.items() for word in (target, *words)}
    taken: set[str] = set()
    mapping = []
    for column in header:
        target = lookup.get(normal(column), "")
        mapping.append("" if target in taken else target)
        taken.add(target)
    return mapping


def mapping_errors(mapping: list[str], header: list[str], labels: Mapping[str, str]) -> list[str]:
    """What is wrong with a chosen mapping: a field unknown, or chosen for two columns."""
    errors = []
    seen: dict[str, str] = {}
    for column, target in zip(header, mapping, strict=True):
        if not target:
            continue
        if target not in labels:
            errors.append(f"Column {shown(column)!r}: choose one of the listed fields.")
        elif target in seen:
            errors.append(
                f"{labels[target]} is chosen for two columns ({shown(seen[target])!r} and {shown(column)!r})."
            )
        seen.setdefault(target, column)
    return errors


def cell(cells: list[str], index: int) -> str:
    """A row's cell (``''`` past its end), trimmed, with the apostrophe an export put before a formula removed."""
    return cell_restore(cells[index].strip()) if index < len(cells) else ""


def formula_problem(column: str, cells: list[str], index: int) -> Problem | None:
    """A cell a spreadsheet would run as a formula (``=cmd|...``): never a value someone meant to import."""
    raw = cells[index].strip(" ") if index < len(cells) else ""
    if raw and raw[0] in FORMULA_CHARACTERS and not re.fullmatch(r"[-+]?\d+(?:[.,]\d+)?", raw):
        return Problem(column, raw, "is a spreadsheet formula, not a value: type the value itself.")
    return None


# --- dates -----------------------------------------------------------------------------------------

DAY_FIRST, MONTH_FIRST, AUTO = "dmy", "mdy", ""
DATE_ORDERS = [
    (AUTO, "As the file shows"),
    (DAY_FIRST, "Day first (31/12/1990)"),
    (MONTH_FIRST, "Month first (12/31/1990)"),
]
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?(?:Z|[+-]\d{2}:?\d{2})?)?"
ISO_RE = re.compile(rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}$", re.IGNORECASE)
COMPACT_RE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
NUMERIC_RE = re.compile(
    rf"^(?P<a>\d{{1,2}})(?P<sep>[-/.])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}){_TIME}$", re.IGNORECASE
)
DAY_MONTH_RE = re.compile(r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?[-\s/.]+(?P<mon>[a-z]+)\.?,?[-\s/.]+(?P<y>\d{4})$", re.I)
MONTH_DAY_RE = re.compile(
    r"^(?:[a-z]+,?\s+)?(?P<mon>[a-z]+)\.?[-\s/]+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?[-\s/]+(?P<y>\d{4})$", re.I
)
DATE_HELP = "write e.g. 1990-12-31, 31/12/1990, 12/31/1990, 31.12.1990, 31-Dec-1990 or Dec 31 1990"


class DateProblem(ValueError):
    """The text is not a date, or not one in the file's day and month order."""


def date_order_shown(text: str) -> str:
    """The order a numeric date can only be read in: DAY_FIRST (31/12), MONTH_FIRST (12/31), else AUTO."""
    match = NUMERIC_RE.match(text.strip())
    if not match:
        return AUTO
    a, b = int(match["a"]), int(match["b"])
    if a > 12 >= b:
        return DAY_FIRST
    if b > 12 >= a:
        return MONTH_FIRST
    return AUTO


def needs_order(text: str) -> bool:
    """Whether a date reads as two different days depending on the order (03/04/2024; not 04/04/2024)."""
    match = NUMERIC_RE.match(text.strip())
    if match is None:
        return False
    return int(match["a"]) <= 12 and int(match["b"]) <= 12 and match["a"] != match["b"]


def file_date_order(values: Iterable[str]) -> tuple[str, bool]:
    """The day and month order the file's dates show, and whether any date needs one to be read.

    (DAY_FIRST, _) when some date can only be day first and none only month first; likewise
    MONTH_FIRST; AUTO when nothing decides (or the file shows both, and a person must choose).
    """
    shown_orders: set[str] = set()
    ambiguous = False
    for value in values:
        order = date_order_shown(value)
        if order:
            shown_orders.add(order)
        ambiguous = ambiguous or needs_order(value)
    return (shown_orders.pop() if len(shown_orders) == 1 else AUTO), ambiguous


def parse_date(text: str, order: str) -> datetime.date:
    """A date in any common format; a numeric one with both parts at most 12 is read in ``order``."""
    text = " ".join(text.split())
    try:
        for regex in (ISO_RE, COMPACT_RE):
            match = regex.match(text)
            if match:
                return datetime.date(int(match["y"]), int(match["m"]), int(match["d"]))
        match = NUMERIC_RE.match(text)
        if match:
            return _numeric(int(match["a"]), int(match["b"]), int(match["y"]), order)
        for regex in (DAY_MONTH_RE, MONTH_DAY_RE):
            match = regex.match(text)
            if match and match["mon"].lower() in MONTHS:
                return datetime.date(int(match["y"]), MONTHS[match["mon"].lower()], int(match["d"]))
    except DateProblem:
        raise
    except ValueError:
        raise DateProblem(f"is not a day of the calendar: {DATE_HELP}.") from None
    raise DateProblem(f"is not a date: {DATE_HELP}.")


def _numeric(a: int, b: int, year: int, order: str) -> datetime.date:
    if a == b or (a > 12 and order != MONTH_FIRST) or (b > 12 and order != DAY_FIRST):
        day, month = (b, a) if b > 12 else (a, b)
        return datetime.date(year, month, day)
    if a > 12 or b > 12:
        shows = "day first" if a > 12 else "month first"
        raise DateProblem(f"can only be {shows}, but the file's dates are read the other way: check this date.")
    if order == DAY_FIRST:
        return datetime.date(year, b, a)
    if order == MONTH_FIRST:
        return datetime.date(year, a, b)
    raise DateProblem("could be day/month or month/day: choose the order of the file's dates above.")
