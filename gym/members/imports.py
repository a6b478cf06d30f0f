"""Members from a CSV in the export's own format: checked row by row, previewed, then saved all
together or not at all."""

from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass, field

from django.db import router, transaction
from django.utils import timezone

from gym.members.forms import MemberForm
from gym.members.models import Member
from gym.members.selectors import EXPORT_HEADER
from gym.members.spreadsheet import cell_restore

#: Bounds on what one import may hold (a gym's members fit many times over).
MAX_BYTES = 1024 * 1024  # carried (base64) from the preview to the import: inside Django's 2.5 MB post limit
MAX_ROWS = 5000
REQUIRED = {"first_name", "email"}
GENDERS = {label.lower(): code for code, label in Member.Gender.choices} | {
    code.lower(): code for code in Member.Gender.values
}
ACTIVE = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False, "": True}
#: The form fields a row fills (``active`` is handled apart: the form has no such field).
FORM_FIELDS = ["first_name", "last_name", "email", "gender", "birth_date", "joined_on"]


class MemberImportForm(MemberForm):
    """A CSV row: the export's columns (whether a member hides their scores is not in the file)."""

    class Meta(MemberForm.Meta):
        fields = FORM_FIELDS
        error_messages = {
            "first_name": {"required": "Enter a first name."},
            "email": {"required": "Enter an e-mail address."},
        }

    def clean_email(self) -> str:
        # The row's member was found by this e-mail (one query for the whole file), so no other
        # member has it: no query per row.
        email: str = self.cleaned_data["email"].strip().lower()
        return email


class ImportRefused(Exception):
    """The file as a whole cannot be read (encoding, header, size): nothing is looked at further."""


@dataclass
class ImportRow:
    line: int  # the line in the file, counting the header as line 1
    values: dict[str, str]
    action: str = ""  # "add", "update", "unchanged"
    errors: list[str] = field(default_factory=list)
    member: Member | None = None  # what would be saved


@dataclass
class ImportPreview:
    rows: list[ImportRow]

    @property
    def refused(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action and not row.errors)

    @property
    def added(self) -> int:
        return self.count("add")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.refused


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRefused("The file is larger than 1 MB: split it into smaller files.")
    try:
        return data.decode("utf-8-sig")  # the export starts with a byte-order mark; other files may not
    except UnicodeDecodeError:
        raise ImportRefused(
            "The file is not UTF-8 text. In your spreadsheet program, save it as “CSV UTF-8” and try again."
        ) from None


def member_import_preview(*, data: bytes) -> ImportPreview:
    """Read a CSV and say, row by row, what importing it would do and what stops it (nothing is saved)."""
    text = _text(data)
    if not text.strip():
        raise ImportRefused("The file is empty.")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","  # spreadsheets in some locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [column.strip().lower() for column in next(reader)]
        lines = list(reader)
    except csv.Error as exc:
        raise ImportRefused(f"The file is not readable as CSV: {exc}.") from None
    unknown = [c for c in header if c not in EXPORT_HEADER]
    missing = sorted(REQUIRED - set(header))
    if unknown or missing or len(set(header)) != len(header):
        raise ImportRefused(
            "The first line must name the columns, as the export does: "
            f"{', '.join(EXPORT_HEADER)} (first_name and email are required)."
            + (f" Unknown: {', '.join(unknown)}." if unknown else "")
            + (f" Missing: {', '.join(missing)}." if missing else "")
        )
    if len(lines) > MAX_ROWS:
        raise ImportRefused(f"The file has {len(lines)} rows; import at most {MAX_ROWS} at a time.")
    rows = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, as spreadsheets leave at the end
        row = ImportRow(number, {})
        if len(cells) != len(header):
            row.errors.append(f"has {len(cells)} cells where the header has {len(header)} columns")
        row.values = {
            column: cell_restore(cells[i].strip()) if i < len(cells) else "" for i, column in enumerate(header)
        }
        rows.append(row)
    _check_rows(rows)
    return ImportPreview(rows)


def _check_rows(rows: list[ImportRow]) -> None:
    """Check every row, in file order: an e-mail already on an earlier line, then the row itself."""
    emails = [row.values.get("email", "").lower() for row in rows]
    existing = {m.email: m for m in Member.objects.filter(email__in=[e for e in emails if e])}  # one query
    seen: dict[str, int] = {}
    for row, email in zip(rows, emails, strict=True):
        if email and email in seen:
            row.errors.append(f"{email} is also on line {seen[email]}")
        seen.setdefault(email, row.line)
        _check_row(row, existing.get(email))


def _check_row(row: ImportRow, current: Member | None) -> None:
    """Check one row against the member with its e-mail (``current``, None for a new one); when it
    passes, give it the member it would save and what saving does."""
    data = _form_data(row, current)
    active = _active_text(row)
    form = MemberImportForm(data, instance=copy.copy(current) if current else None)
    if not form.is_valid():
        _report_form_errors(row, form)
        return
    member = form.save(commit=False)
    member.is_active = ACTIVE.get(active, True) if "active" in row.values else (current.is_active if current else True)
    row.member = member
    row.action = _action(current, member)


def _form_data(row: ImportRow, current: Member | None) -> dict[str, str]:
    """What the form checks for the row: its cells, the gender as a code, and for a member who
    exists, their own value where the file has no column (or an empty date)."""
    data = {name: row.values.get(name, "") for name in FORM_FIELDS}
    gender = data["gender"].strip().lower()
    if gender not in GENDERS and gender:
        row.errors.append(f"gender {data['gender']!r} is not Female, Male or Other / not given")
    data["gender"] = GENDERS.get(gender, Member.Gender.OTHER)
    if current is not None:
        for name in FORM_FIELDS:  # a column left out (or a date left empty) keeps the member's value
            if name not in row.values or (name == "joined_on" and not data[name]):
                value = getattr(current, name)
                data[name] = "" if value is None else str(value)
    return data


def _active_text(row: ImportRow) -> str:
    """The row's ``active`` cell, trimmed and lower-cased (empty without the column); a value ACTIVE
    does not know is one of the row's errors."""
    active = row.values.get("active", "").strip().lower()
    if active not in ACTIVE:
        row.errors.append(f"active {row.values['active']!r} is not yes or no")
    return active


def _report_form_errors(row: ImportRow, form: MemberImportForm) -> None:
    """Each of the form's errors as one of the row's, under its column's name."""
    for name, errors in form.errors.items():
        label = name if name != "__all__" else "row"
        row.errors.extend(f"{label}: {error}" for error in errors)


def _action(current: Member | None, member: Member) -> str:
    """What saving ``member`` does: add a new member, update ``current``, or leave it unchanged."""
    if current is None:
        return "add"
    if all(getattr(current, f) == getattr(member, f) for f in (*FORM_FIELDS, "is_active")):
        return "unchanged"
    return "update"


def _members(preview: ImportPreview, action: str) -> list[Member]:
    """The members of the rows ``action`` is for (a row is given its action with its member)."""
    return [row.member for row in preview.rows if row.action == action and row.member is not None]


def members_import(*, data: bytes) -> ImportPreview:
    """Import a CSV: every row is checked again, and every row is saved in one transaction, or none."""
    with transaction.atomic(using=router.db_for_write(Member)):
        preview = member_import_preview(data=data)
        if not preview.ok:
            return preview
        to_add = _members(preview, "add")
        to_update = _members(preview, "update")
        now = timezone.now()
        for member in to_update:
            member.updated_at = now  # bulk_update does not apply auto_now
        Member.objects.bulk_create(to_add)
        Member.objects.bulk_update(to_update, [*FORM_FIELDS, "is_active", "updated_at"], batch_size=500)
    return preview
