"""Members from a CSV with any headers: each column matched to a member's field (guessed from its
header, changeable), checked row by row, previewed, then saved in one transaction — every row or
none (the default), or the good rows only while the bad ones are reported.

A member whose e-mail is already here is updated (or left unchanged), so importing the same file
again changes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from django.db import router, transaction
from django.utils import timezone

from gym.members.forms import MemberForm
from gym.members.models import Member
from gym.members.tabular import (
    AUTO,
    DateProblem,
    Problem,
    Table,
    cell,
    file_date_order,
    formula_problem,
    guess_mapping,
    mapping_errors,
    parse_date,
    read_table,
)

MAX_ROWS = 5000
#: What a column can hold, as the mapping step names it.
FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name",
    "email": "E-mail",
    "gender": "Gender",
    "birth_date": "Birth date",
    "joined_on": "Member since",
    "active": "Active",
}
#: Headers each field is guessed from (compared lower-case, letters and digits only).
SYNONYMS: dict[str, list[str]] = {
    "first_name": ["first", "firstname", "given name", "givenname", "forename", "first names"],
    "last_name": ["last", "lastname", "surname", "family name", "second name"],
    "name": ["full name", "fullname", "athlete", "athlete name", "member", "member name", "client", "client name"],
    "email": ["e-mail", "email address", "e-mail address", "mail", "email_address", "emailaddress"],
    "gender": ["sex", "gender identity"],
    "birth_date": ["dob", "birthday", "date of birth", "birthdate", "born", "d.o.b."],
    "joined_on": ["member since", "start date", "join date", "joined", "date joined", "joined on", "membership start"],
    "active": ["is active", "status", "active member"],
}
DATE_FIELDS = ("birth_date", "joined_on")
GENDERS = {label.lower(): code for code, label in Member.Gender.choices} | {
    "f": "F",
    "female": "F",
    "woman": "F",
    "w": "F",
    "women": "F",
    "m": "M",
    "male": "M",
    "man": "M",
    "men": "M",
    "x": "X",
    "other": "X",
    "non-binary": "X",
    "nonbinary": "X",
    "prefer not to say": "X",
    "": "X",
}
ACTIVE = {"yes": True, "y": True, "true": True, "1": True, "active": True, "": True}
ACTIVE |= {"no": False, "n": False, "false": False, "0": False, "inactive": False}
#: The form fields a row fills (``active`` is handled apart: the form has no such field).
FORM_FIELDS = ["first_name", "last_name", "email", "gender", "birth_date", "joined_on"]


class MemberImportForm(MemberForm):
    """A row: the member's fields (whether a member hides their scores is not in the file)."""

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

    def validate_unique(self) -> None:
        """Nothing to ask the database per row: the file's e-mails were matched to members in one
        query, and one used twice in the file is refused on its second line."""


@dataclass
class ImportRow:
    line: int  # the line in the file, counting the header as line 1
    values: dict[str, str]  # by field, as the file has them
    action: str = ""  # "add", "update", "unchanged"
    problems: list[Problem] = field(default_factory=list)
    member: Member | None = None  # what would be saved
    headers: dict[str, str] = field(default_factory=dict)  # by field, the file's header of its column

    @property
    def errors(self) -> list[Problem]:
        return self.problems


@dataclass
class Column:
    index: int
    header: str
    target: str
    samples: list[str]


@dataclass
class ImportPreview:
    columns: list[Column]
    date_order: str  # the order dates are read in (chosen, or what the file shows)
    order_needed: bool  # some date reads two ways and neither the file nor the person decided
    errors: list[str]  # what stops the whole file (the mapping)
    rows: list[ImportRow] = field(default_factory=list)

    @property
    def refused(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]

    @property
    def good(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.problems]

    def count(self, action: str) -> int:
        return sum(1 for row in self.good if row.action == action)

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
        """Every row can be imported."""
        return not self.errors and not self.order_needed and bool(self.rows) and not self.refused

    def importable(self, *, partial: bool) -> bool:
        return self.ok or (partial and not self.errors and not self.order_needed and bool(self.good))


def member_import_preview(*, data: bytes, mapping: list[str] | None = None, date_order: str = AUTO) -> ImportPreview:
    """Read a file and say, row by row, what importing it would do and what stops it (nothing is saved).

    ``mapping``: the field of each column ('' ignores it); None guesses it from the headers.
    ``date_order``: DAY_FIRST or MONTH_FIRST, or AUTO to read the order from the file's own dates.
    """
    table = read_table(data, max_rows=MAX_ROWS)
    if mapping is None or len(mapping) != len(table.header):
        mapping = guess_mapping(table.header, SYNONYMS)
    errors = mapping_errors(mapping, table.header, FIELDS)
    targets = set(mapping)
    if "email" not in targets:
        errors.append("Choose the column that holds the e-mail address.")
    if not targets & {"first_name", "name"}:
        errors.append("Choose the column that holds the first name (or the full name).")
    columns = [Column(i, h, t, table.samples(i)) for i, (h, t) in enumerate(zip(table.header, mapping, strict=True))]
    date_columns = [i for i, target in enumerate(mapping) if target in DATE_FIELDS]
    shown_order, ambiguous = file_date_order(cell(cells, i) for _, cells in table.rows for i in date_columns)
    order = date_order or shown_order
    preview = ImportPreview(columns, order, ambiguous and not order, errors)
    if not errors:
        preview.rows = [_row(line, cells, table, mapping, order) for line, cells in table.rows]
        _check_rows(preview.rows)
    return preview


def _row(line: int, cells: list[str], table: Table, mapping: list[str], order: str) -> ImportRow:
    """A row's values by field (dates as ISO), with the problems found in its cells."""
    row = ImportRow(line, {})
    if len(cells) > len(table.header) and any(c.strip() for c in cells[len(table.header) :]):
        row.problems.append(Problem("", "", f"has {len(cells)} cells where the header has {len(table.header)} columns"))
    for index, target in enumerate(mapping):
        if not target:
            continue
        problem = formula_problem(table.header[index], cells, index)
        value = cell(cells, index)
        row.values[target] = value
        if problem:
            row.problems.append(problem)
        elif target in DATE_FIELDS and value:
            try:
                row.values[target] = parse_date(value, order).isoformat()
            except DateProblem as exc:
                row.problems.append(Problem(table.header[index], value, str(exc)))
                row.values[target] = ""
    if "name" in row.values:
        first, _, last = row.values.pop("name").partition(" ")
        row.values.setdefault("first_name", first)
        row.values.setdefault("last_name", last.strip())
    row.headers = {target: table.header[i] for i, target in enumerate(mapping) if target}
    return row


def _column(row: ImportRow, name: str) -> str:
    """The file's header of the column a field came from (the field's own label when none)."""
    if name not in row.headers and name in ("first_name", "last_name"):
        name = "name"
    return row.headers.get(name, FIELDS.get(name, name))


def _check_rows(rows: list[ImportRow]) -> None:
    """Check every row, in file order: an e-mail already on an earlier line, then the row itself."""
    emails = [row.values.get("email", "").strip().lower() for row in rows]
    existing = {m.email: m for m in Member.objects.filter(email__in=[e for e in emails if e])}  # one query
    seen: dict[str, int] = {}
    for row, email in zip(rows, emails, strict=True):
        if email and email in seen:
            row.problems.append(Problem(_column(row, "email"), email, f"is also on line {seen[email]}"))
        seen.setdefault(email, row.line)
        _check_row(row, existing.get(email))


def _check_row(row: ImportRow, current: Member | None) -> None:
    """Check one row against the member with its e-mail (``current``, None for a new one); when it
    passes, give it the member it would save and what saving does."""
    data = _form_data(row, current)
    active = row.values.get("active", "").strip().lower()
    if active not in ACTIVE:
        row.problems.append(Problem(_column(row, "active"), row.values["active"], "is not yes or no"))
    form = MemberImportForm(data, instance=copy.copy(current) if current else None)
    if not form.is_valid():
        for name, messages in form.errors.items():
            value = row.values.get(name, "") if name != "__all__" else ""
            row.problems.extend(Problem(_column(row, name), value, str(m)) for m in messages)
    if row.problems:
        return
    member = form.save(commit=False)
    member.is_active = ACTIVE[active] if "active" in row.values else (current.is_active if current else True)
    member.kind = Member.Kind.MEMBER  # a drop-in the gym's file lists has become one of its members
    row.member = member
    row.action = _action(current, member)


def _form_data(row: ImportRow, current: Member | None) -> dict[str, str]:
    """What the form checks for the row: its cells, the gender as a code, and for a member who
    exists, their own value where the file has no column (or an empty date)."""
    data = {name: row.values.get(name, "") for name in FORM_FIELDS}
    gender = " ".join(data["gender"].split()).lower()
    if gender not in GENDERS:
        row.problems.append(Problem(_column(row, "gender"), data["gender"], "is not Female, Male or Other"))
    data["gender"] = GENDERS.get(gender, Member.Gender.OTHER)
    if current is not None:
        for name in FORM_FIELDS:  # a column left out (or a date left empty) keeps the member's value
            if name not in row.values or (name in DATE_FIELDS and not data[name]):
                value = getattr(current, name)
                data[name] = "" if value is None else str(value)
    return data


def _action(current: Member | None, member: Member) -> str:
    """What saving ``member`` does: add a new member, update ``current``, or leave it unchanged."""
    if current is None:
        return "add"
    if all(getattr(current, f) == getattr(member, f) for f in (*FORM_FIELDS, "is_active", "kind")):
        return "unchanged"
    return "update"


def members_import(
    *, data: bytes, mapping: list[str] | None = None, date_order: str = AUTO, partial: bool = False
) -> ImportPreview:
    """Import a file: every row is checked again, then saved in one transaction — all rows, or with
    ``partial`` the good ones (the bad ones stay in the preview returned). Nothing is saved when the
    preview is not importable."""
    with transaction.atomic(using=router.db_for_write(Member)):
        preview = member_import_preview(data=data, mapping=mapping, date_order=date_order)
        if not preview.importable(partial=partial):
            return preview
        good = preview.good
        to_add = [row.member for row in good if row.action == "add" and row.member is not None]
        to_update = [row.member for row in good if row.action == "update" and row.member is not None]
        now = timezone.now()
        for member in to_update:
            member.updated_at = now  # bulk_update does not apply auto_now
        Member.objects.bulk_create(to_add)
        Member.objects.bulk_update(to_update, [*FORM_FIELDS, "is_active", "kind", "updated_at"], batch_size=500)
    return preview
