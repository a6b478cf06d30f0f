"""Past results from a CSV (a SugarWOD or Wodify export, or a spreadsheet): date, workout, athlete,
score, level, each column matched as for members (``gym/members/tabular.py``), checked row by row,
previewed, then saved in one transaction (every row, or the good rows only).

- The athlete is the member with the row's e-mail, else the one member with exactly its full name
  (two members of that name: the row is refused), else the member chosen for a file of one athlete.
- The workout is the one of that name on that date; none: a past workout is created — a library
  benchmark's (Fran stays Fran, with its movements, cap and reps), else with the score type the
  file's score type column gives, the one chosen, or the one its scores show.
- The score is read as the results sheet reads it (``result_values``): 3:45, 5+12, 225 lb, 100 kg.
- A member's result on a workout is written once: importing the file again updates it or leaves it
  unchanged, never a second result. Personal records follow for the members touched.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction

from gym.members.imports import Column, ImportPreview, ImportRow
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
from gym.workouts.forms import FIRST_PROGRAMMING_DAY
from gym.workouts.models import Benchmark, Participation, ScalingLevel, ScoreType, Workout
from gym.workouts.records import personal_record_exercise, personal_records_refresh
from gym.workouts.result_import_rules import FIELDS, SYNONYMS, infer_score_type, level_of, score_type_of
from gym.workouts.services import result_values, workout_from_benchmark

MAX_ROWS = 20_000
#: What a result's row writes besides its parsed score.
RESULT_COLUMNS = ["scaling_level", "status", "score_value", "reps_completed", "tiebreak_ms"]
BARE_NUMBER_RE = re.compile(r"^\d+(?:[.,]\d+)?$")


@dataclass
class ResultOptions:
    """The choices of the mapping step besides the columns."""

    mapping: list[str] | None = None
    date_order: str = AUTO
    athlete: int | None = None  # the member whose results a file without an athlete column holds
    new_type: str = ""  # the score type of new workouts when the file has no score type column ('' reads the scores)
    pounds: bool = False  # a load written without a unit is in pounds (SugarWOD's are)


@dataclass
class ResultRow(ImportRow):
    day: datetime.date | None = None
    level: str = ScalingLevel.RX
    key: tuple[datetime.date, str] | None = None  # the workout's date and name, compared without case
    result: dict[str, Any] | None = None  # the participation's columns (result_values)

    @property
    def level_label(self) -> str:
        return ScalingLevel(self.level).label


@dataclass
class PlannedWorkout:
    """The workout a group of rows goes to: one that exists, or one the import creates."""

    workout: Workout
    new: bool
    rows: list[ResultRow] = field(default_factory=list)


@dataclass
class ResultPreview(ImportPreview):
    workouts: dict[tuple[datetime.date, str], PlannedWorkout] = field(default_factory=dict)
    notes: bool = False  # the file has a notes column
    result_rows: list[ResultRow] = field(default_factory=list)  # ``rows``, as what they are

    @property
    def new_workouts(self) -> list[Workout]:
        """The workouts importing creates (those with a row to import)."""
        return [p.workout for p in self.workouts.values() if p.new and any(not r.problems for r in p.rows)]


def results_import_preview(*, data: bytes, options: ResultOptions) -> ResultPreview:
    """Read a file and say, row by row, what importing it would do and what stops it (nothing is saved)."""
    table = read_table(data, max_rows=MAX_ROWS)
    mapping = options.mapping
    if mapping is None or len(mapping) != len(table.header):
        mapping = guess_mapping(table.header, SYNONYMS)
    errors = mapping_errors(mapping, table.header, FIELDS)
    targets = set(mapping)
    for need, what in (("date", "date"), ("workout", "workout's name"), ("score", "score")):
        if need not in targets:
            errors.append(f"Choose the column that holds the {what}.")
    athlete = None
    if not targets & {"email", "athlete", "first_name"}:
        athlete = Member.objects.filter(pk=options.athlete).first() if options.athlete else None
        if athlete is None:
            errors.append(
                "Choose the column that holds the athlete (e-mail or name), or the member whose results the file holds."
            )
    columns = [Column(i, h, t, table.samples(i)) for i, (h, t) in enumerate(zip(table.header, mapping, strict=True))]
    dates = [i for i, target in enumerate(mapping) if target == "date"]
    shown_order, ambiguous = file_date_order(cell(cells, i) for _, cells in table.rows for i in dates)
    order = options.date_order or shown_order
    preview = ResultPreview(columns, order, ambiguous and not order, errors, notes="notes" in targets)
    if errors or preview.order_needed:
        return preview
    rows = [_row(line, cells, table, mapping, order) for line, cells in table.rows]
    preview.rows, preview.result_rows = list(rows), rows
    _match_members(rows, athlete)
    preview.workouts = _plan_workouts(rows, options)
    for plan in preview.workouts.values():
        _read_scores(plan, options)
    _compare_with_existing(rows, preview.workouts, notes=preview.notes)
    return preview


def _row(line: int, cells: list[str], table: Table, mapping: list[str], order: str) -> ResultRow:
    """A row's cells by field, its date and level read, with the problems found in them."""
    row = ResultRow(line, {})
    row.headers = {target: table.header[i] for i, target in enumerate(mapping) if target}
    for index, target in enumerate(mapping):
        if target:
            problem = formula_problem(table.header[index], cells, index)
            row.values[target] = " ".join(cell(cells, index).split())
            if problem:
                row.problems.append(problem)
    _read_day(row, order)
    level = level_of(row.values.get("level", ""))
    if level is None:
        row.problems.append(Problem(row.headers["level"], row.values["level"], "is not Rx, Rx+, Scaled or Foundations"))
    row.level = level or ScalingLevel.RX
    if not row.values["workout"]:
        row.problems.append(Problem(row.headers["workout"], "", "Enter the workout's name."))
    elif row.day:
        row.key = (row.day, row.values["workout"].lower())
    return row


def _read_day(row: ResultRow, order: str) -> None:
    text = row.values["date"]
    try:
        day = parse_date(text, order) if text else None
    except DateProblem as exc:
        row.problems.append(Problem(row.headers["date"], text, str(exc)))
        return
    if day is None:
        row.problems.append(Problem(row.headers["date"], "", "Enter the date the workout was done."))
    elif day > datetime.date.today():
        row.problems.append(Problem(row.headers["date"], text, "is in the future: only past results are imported."))
    elif day < FIRST_PROGRAMMING_DAY:
        row.problems.append(Problem(row.headers["date"], text, f"is before {FIRST_PROGRAMMING_DAY:%Y}."))
    else:
        row.day = day


def _match_members(rows: list[ResultRow], athlete: Member | None) -> None:
    """Each row's member: by e-mail, else by exact full name, else the file's one athlete (one query)."""
    by_email: dict[str, Member] = {}
    by_name: dict[str, list[Member]] = defaultdict(list)
    for member in Member.objects.order_by("id"):
        by_email[member.email.lower()] = member
        by_name[" ".join(str(member).split()).lower()].append(member)
    for row in rows:
        email = row.values.get("email", "").lower()
        name = row.values.get("athlete") or f"{row.values.get('first_name', '')} {row.values.get('last_name', '')}"
        name = " ".join(name.split())
        column = row.headers.get("athlete") or row.headers.get("first_name", "")
        if email:
            row.member = by_email.get(email)
            if row.member is None:
                row.problems.append(Problem(row.headers["email"], email, "is no member's e-mail: add them first."))
        elif name:
            found = by_name.get(name.lower(), [])
            if len(found) == 1:
                row.member = found[0]
            elif found:
                why = f"is the name of {len(found)} members: add an e-mail column to tell them apart."
                row.problems.append(Problem(column, name, why))
            else:
                row.problems.append(Problem(column, name, "is no member's name: add them first, or give their e-mail."))
        elif athlete is not None:
            row.member = athlete
        else:
            row.problems.append(Problem(column, "", "names no athlete."))


def _plan_workouts(rows: list[ResultRow], options: ResultOptions) -> dict[tuple[datetime.date, str], PlannedWorkout]:
    """The workout each row goes to: the one of its name on its date, or a new one (two queries)."""
    groups: dict[tuple[datetime.date, str], list[ResultRow]] = defaultdict(list)
    for row in rows:
        if row.key:
            groups[row.key].append(row)
    existing: dict[tuple[datetime.date, str], list[Workout]] = defaultdict(list)
    for workout in Workout.objects.filter(scheduled_on__in={key[0] for key in groups}).order_by("id"):
        existing[(workout.scheduled_on, " ".join(workout.name.split()).lower())].append(workout)
    benchmarks = {b.name.lower(): b for b in Benchmark.objects.all()}
    plans = {}
    for key, group in groups.items():
        found = existing.get(key, [])
        if len(found) > 1:
            for row in group:
                why = f"is the name of {len(found)} workouts on {key[0]}: rename one of them first."
                row.problems.append(Problem(row.headers["workout"], row.values["workout"], why))
            continue
        plan = PlannedWorkout(found[0], False, group) if found else _new_workout(key, group, benchmarks, options)
        if plan is not None:
            plans[key] = plan
    return plans


def _new_workout(
    key: tuple[datetime.date, str], rows: list[ResultRow], benchmarks: dict[str, Benchmark], options: ResultOptions
) -> PlannedWorkout | None:
    """The past workout the rows create (not saved): a library benchmark's, or one of its own score type."""
    day, name = key[0], rows[0].values["workout"]
    levels = [level for level in ScalingLevel.values if level in {r.level for r in rows} | {"rx", "scaled"}]
    benchmark = benchmarks.get(key[1])
    if benchmark is not None:
        workout = Workout(
            name=benchmark.name,
            description=benchmark.description,
            scheduled_on=day,
            score_type=benchmark.score_type,
            time_cap_seconds=benchmark.time_cap_seconds,
            reps_per_round=benchmark.reps_per_round,
            rep_max=benchmark.rep_max,
            benchmark=benchmark,
            scaling_levels=levels,
        )
        return PlannedWorkout(workout, True, rows)
    score_type = _score_type(rows, options)
    if score_type is None:
        return None
    return PlannedWorkout(
        Workout(name=name, scheduled_on=day, score_type=score_type, scaling_levels=levels), True, rows
    )


def _score_type(rows: list[ResultRow], options: ResultOptions) -> str | None:
    """A new workout's score type: its score type column, else the one chosen, else what its scores
    show; None (each row told why) when none of them says."""
    written = [r for r in rows if r.values.get("score_type")]
    if written:
        score_type = score_type_of(written[0].values["score_type"])
        if score_type:
            return score_type
        for row in written:
            why = "is a score type FitBuddy does not record: choose the score type of new workouts instead."
            row.problems.append(Problem(row.headers["score_type"], row.values["score_type"], why))
        return None
    score_type = options.new_type or infer_score_type(r.values["score"] for r in rows)
    if score_type is None:
        for row in rows:
            why = "is one of this new workout's scores, which do not show one score type: choose it above."
            row.problems.append(Problem(row.headers["score"], row.values["score"], why))
    return score_type


def _read_scores(plan: PlannedWorkout, options: ResultOptions) -> None:
    """Each row's score read as the results sheet reads it, for its workout."""
    workout = plan.workout
    for row in plan.rows:
        text = row.values["score"]
        if workout.score_type == ScoreType.LOAD and options.pounds and BARE_NUMBER_RE.match(text):
            text += " lb"
        try:
            row.result = result_values(
                workout=workout, scaling_level=row.level, status=Participation.Status.FINISHED, score_text=text
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                target = "level" if name == "scaling_level" else "score"
                value = row.values.get(target, "")
                row.problems.append(Problem(row.headers.get(target, FIELDS[target]), value, " ".join(messages)))


def _compare_with_existing(
    rows: list[ResultRow], plans: dict[tuple[datetime.date, str], PlannedWorkout], *, notes: bool
) -> None:
    """A result twice in the file is refused on its second line; each good row is added, updates the
    member's result on the workout, or leaves it unchanged (one query)."""
    workouts = [p.workout for p in plans.values() if not p.new]
    existing = {
        (p["workout_id"], p["member_id"]): p
        for p in Participation.objects.filter(workout__in=workouts).values(
            "workout_id", "member_id", "notes", *RESULT_COLUMNS
        )
    }
    seen: dict[tuple[Any, int], int] = {}
    for row in rows:
        if row.key is None or row.member is None or row.key not in plans:
            continue
        twice = seen.setdefault((row.key, row.member.pk), row.line)
        if twice != row.line:
            row.problems.append(Problem("", "", f"{row.member} has a result on this workout on line {twice} too."))
        if row.problems or row.result is None:
            continue
        plan = plans[row.key]
        current = None if plan.new else existing.get((plan.workout.pk, row.member.pk))
        same = current is not None and all(current[c] == row.result[c] for c in RESULT_COLUMNS)
        same = same and (not notes or current is not None and current["notes"] == row.values.get("notes", ""))
        row.action = "add" if current is None else "unchanged" if same else "update"


def results_import(
    *, data: bytes, options: ResultOptions, partial: bool = False, recorded_by: str = ""
) -> ResultPreview:
    """Import a file: checked again, then saved in one transaction (all rows, or with ``partial`` the
    good ones); new workouts are created, results upserted, personal records refreshed."""
    with transaction.atomic(using=router.db_for_write(Participation)):
        preview = results_import_preview(data=data, options=options)
        if not preview.importable(partial=partial):
            return preview
        _create_workouts(preview)
        rows = [r for r in preview.result_rows if not r.problems and r.action in ("add", "update")]
        extra = {"notes"} if preview.notes else set()
        Participation.objects.bulk_create(
            [_participation(row, preview, recorded_by) for row in rows],
            update_conflicts=True,
            unique_fields=["workout", "member"],
            update_fields=[*RESULT_COLUMNS, *extra, "performed_on", "recorded_by", "updated_at"],
            batch_size=1000,
        )
        _refresh_records(preview, rows)
    return preview


def _create_workouts(preview: ResultPreview) -> None:
    """The past workouts the good rows need: a library benchmark's with its movements, the others at once."""
    plain = []
    for plan in preview.workouts.values():
        if plan.new and any(not r.problems for r in plan.rows):
            workout = plan.workout
            if workout.benchmark is None:
                plain.append(workout)
                continue
            plan.workout, _ = workout_from_benchmark(benchmark=workout.benchmark, scheduled_on=workout.scheduled_on)
            if set(workout.scaling_levels) - set(plan.workout.scaling_levels):
                plan.workout.scaling_levels = workout.scaling_levels  # a level the file's rows use (Rx+)
                plan.workout.save(update_fields=["scaling_levels", "updated_at"])
    Workout.objects.bulk_create(plain, batch_size=500)  # PostgreSQL gives each its id


def _participation(row: ResultRow, preview: ResultPreview, recorded_by: str) -> Participation:
    # Only rows with all of these are given an action (_compare_with_existing).
    assert row.key is not None and row.member is not None and row.result is not None and row.day is not None
    notes = {"notes": row.values.get("notes", "")} if preview.notes else {}
    return Participation(
        workout=preview.workouts[row.key].workout,
        member=row.member,
        performed_on=row.day,
        recorded_by=recorded_by,
        entered_by=recorded_by,
        **row.result,
        **notes,
    )


def _refresh_records(preview: ResultPreview, rows: list[ResultRow]) -> None:
    """The personal records of the members touched, once per exercise (a single-lift test's)."""
    members: dict[int, set[int]] = defaultdict(set)
    workouts: dict[int, Workout] = {}
    for row in rows:
        assert row.key is not None and row.member is not None
        workout = preview.workouts[row.key].workout
        workouts[workout.pk] = workout
        members[workout.pk].add(row.member.pk)
    by_exercise: dict[int, tuple[Workout, set[int]]] = {}
    for workout_id, workout in workouts.items():
        exercise = personal_record_exercise(workout=workout)
        if exercise is not None:
            by_exercise.setdefault(exercise.pk, (workout, set()))[1].update(members[workout_id])
    for workout, member_ids in by_exercise.values():
        personal_records_refresh(workout=workout, member_ids=sorted(member_ids))
