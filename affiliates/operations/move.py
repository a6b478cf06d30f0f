"""Moving a gym's database to another server while the gym serves.

    pending → copying → pausing → switched → done;   copying / pausing → rolled_back (or failed)

1. **copying** (the gym serves as usual): the gym's role and an empty database on the destination;
   then either logical replication (schema copied, a subscription copies the rows and streams every
   change) or, where the servers cannot replicate, nothing yet.
2. **pausing** (the write pause): the registry's ``write_pause_until`` makes every web process hold
   the gym's new requests; once the requests already running finish (at most
   ``MOVE_QUIET_SECONDS``), the role stops logging in to the source and its sessions end. Then the
   last changes arrive (or the dump is restored), sequences are set, and every table's row count
   and checksum are compared on both sides. A difference rolls the move back: the source serves on.
3. **switched**: one transaction points the registry at the destination and lifts the pause; every
   process routes the gym there from its next request (the routing stamp).
4. **done**: the source's pooled connections, publication, database and role are dropped.

The affiliate's lock is held throughout. Every step is in the gym's event log and the move row,
and the move is audited. A crash anywhere converges when the move runs again (the reconciler
queues it): before the switch, what the destination holds is dropped and the copy starts over
(the source never stopped being the gym's database, and its role logs in again); after it, the
clean-up finishes. The pause is a deadline, so a mover that dies mid-pause holds no request
longer than ``MOVE_PAUSE_SECONDS``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from affiliates.audit import audited
from affiliates.errors import OperationError, describe
from affiliates.infra import databases, locks, pooler_admin, queue, replication
from affiliates.infra.targets import on_database, pooler_for, server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, AffiliateMove, DatabaseServer
from affiliates.operations import affiliate_database
from affiliates.operations.affiliate_database import name_of, role_of
from affiliates.operations.events import StepRecorder
from affiliates.operations.placement import database_server_choose
from affiliates.routing.hosts import routing_changed

METHODS = ("auto", AffiliateMove.Method.LOGICAL, AffiliateMove.Method.DUMP)
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def replication_name(move: AffiliateMove) -> str:
    """The publication, subscription and slot of a move (one of each)."""
    return f"fitbuddy_move_{move.pk}"


def affiliate_move(
    *,
    slug: str,
    to: str | None = None,
    method: str = "auto",
    requested_by: str = "",
    channel: str = "command",
    progress: Progress = _quiet,
) -> AffiliateMove:
    """Move the gym ``slug`` to server ``to`` (placement chooses when None), or resume its open move."""
    affiliate: Affiliate | None = Affiliate.objects.filter(schema_name=slug).first()
    if affiliate is None:
        raise OperationError(f"no affiliate with slug {slug!r}")
    with (
        audited("move", actor=requested_by, channel=channel, target=slug, detail=f"to {to or 'placement'}"),
        locks.affiliate_held(affiliate.pk, "move"),
    ):
        move = _open_move(affiliate.pk) or _move_begin(affiliate.pk, to=to, method=method, requested_by=requested_by)
        if to and move.destination_server.name != to:
            raise OperationError(
                f"{slug} has an open move to {move.destination_server.name}; it is resumed, not redirected:"
                f" move it again once it is done"
            )
        return _move_run(move, progress=progress)


def affiliate_move_resume(*, affiliate_id: int, requested_by: str = "") -> AffiliateMove | None:
    """Resume the affiliate's open move, if it has one (the task and the reconciler); the move, or None."""
    move = _open_move(affiliate_id)
    if move is None:
        return None
    slug = move.affiliate.slug
    with (
        audited("move", actor=requested_by or move.requested_by, channel="task", target=slug, detail="resumed"),
        locks.affiliate_held(affiliate_id, "move"),
    ):
        move = _open_move(affiliate_id)
        return _move_run(move) if move else None


def open_move_of(affiliate_id: int) -> AffiliateMove | None:
    """The affiliate's move that is not finished, if any."""
    return _open_move(affiliate_id)


def move_enqueue(*, affiliate_id: int, server_name: str | None, requested_by: str) -> str:
    """Queue the move (or its resumption) for a worker; the task's id."""
    return queue.send(queue.MOVE, affiliate_id, server_name, requested_by)


def _open_move(affiliate_id: int) -> AffiliateMove | None:
    return (
        AffiliateMove.objects.select_related("affiliate", "source_server", "destination_server")
        .filter(affiliate_id=affiliate_id)
        .exclude(state__in=AffiliateMove.FINISHED)
        .first()
    )


def _move_begin(affiliate_id: int, *, to: str | None, method: str, requested_by: str) -> AffiliateMove:
    affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
    if method not in METHODS:
        raise OperationError(f"no move method {method!r} (methods: {', '.join(METHODS)})")
    if affiliate.status != Affiliate.Status.ACTIVE or affiliate.database_server is None:
        raise OperationError(f"only an active affiliate can be moved; {affiliate.slug} is {affiliate.status}")
    source: DatabaseServer = affiliate.database_server
    if to == source.name:
        raise OperationError(f"{affiliate.slug} is already on {source.name}")
    try:
        destination = database_server_choose(server_name=to, exclude=source)
    except ValidationError as exc:
        raise OperationError(" ".join(exc.messages)) from exc
    if destination.pk is None:
        raise OperationError("no other database server is registered: register one with `database_server add`")
    chosen = method
    if method == "auto":
        refusal = replication.logical_refusal(server_admin_target(source), server_admin_target(destination))
        chosen = AffiliateMove.Method.DUMP if refusal else AffiliateMove.Method.LOGICAL
    elif method == AffiliateMove.Method.LOGICAL:
        refusal = replication.logical_refusal(server_admin_target(source), server_admin_target(destination))
        if refusal:
            raise OperationError(f"logical replication cannot move {affiliate.slug}: {refusal}")
    move: AffiliateMove = AffiliateMove.objects.create(
        affiliate=affiliate,
        source_server=source,
        destination_server=destination,
        method=chosen,
        requested_by=requested_by,
    )
    return AffiliateMove.objects.select_related("affiliate", "source_server", "destination_server").get(pk=move.pk)


# --- emptying a server ---


@dataclass(frozen=True)
class MoveOutcome:
    """How one gym's move off a draining server ended."""

    slug: str
    destination: str = ""
    pause_ms: int | None = None
    error: str = ""

    def describe(self) -> str:
        if self.error:
            return f"{self.slug}: NOT moved ({self.error})"
        return f"{self.slug}: moved to {self.destination} (write pause {self.pause_ms} ms)"


def server_empty(*, name: str, requested_by: str = "", progress: Progress = _quiet) -> list[MoveOutcome]:
    """Move every active gym off server ``name`` (it must be draining), one at a time; how each ended.

    A gym that cannot be moved stays where it is and serves on; the others still move.
    """
    server = DatabaseServer.objects.filter(name=name).first()
    if server is None:
        raise OperationError(f"no database server {name!r}")
    if server.is_accepting:
        raise OperationError(f"{name} still accepts new gyms: drain it first")
    slugs = list(
        Affiliate.objects.filter(database_server=server, status=Affiliate.Status.ACTIVE)
        .order_by("schema_name")
        .values_list("schema_name", flat=True)
    )
    outcomes = []
    for number, slug in enumerate(slugs, start=1):
        progress(f"[{number}/{len(slugs)}] {slug}")
        try:
            done = affiliate_move(slug=slug, requested_by=requested_by, progress=progress)
        except OperationError as exc:
            outcomes.append(MoveOutcome(slug, error=describe(exc)))
            continue
        outcomes.append(MoveOutcome(slug, done.destination_server.name, done.pause_ms))
    return outcomes


# --- running a move from the state it is in ---


class _Move:
    """One run of a move: its targets, its step log, and how it records its state."""

    def __init__(self, move: AffiliateMove, progress: Progress) -> None:
        self.move = move
        self.affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=move.affiliate_id)
        self.steps = StepRecorder(self.affiliate, move.requested_by, progress=self._told)
        self.progress = progress
        self.source_admin = server_admin_target(move.source_server)
        self.destination_admin = server_admin_target(move.destination_server)
        self.source = on_database(self.source_admin, name_of(self.affiliate))
        self.destination = on_database(self.destination_admin, name_of(self.affiliate))
        self.name = replication_name(move)

    def _told(self, event: AffiliateEvent) -> None:
        took = f" ({event.duration_ms} ms)" if event.duration_ms else ""
        said = f": {event.detail or event.error}" if (event.detail or event.error) else ""
        self.progress(f"{event.step}: {event.outcome}{took}{said}")

    def state(self, state: str, detail: str = "", **fields: Any) -> None:
        self.move.state = state
        self.move.state_detail = detail
        for key, value in fields.items():
            setattr(self.move, key, value)
        AffiliateMove.objects.filter(pk=self.move.pk).update(
            state=state, state_detail=detail, updated_at=timezone.now(), **fields
        )

    # --- the destination, before the pause ---

    def destination_clear(self) -> bool:
        """Drop whatever an earlier attempt left: the subscription, its slot, the destination database."""
        did = False
        with databases.admin_connect(self.destination_admin) as conn:
            exists = databases.database_exists(conn, self.destination.name)
        if exists:
            replication.subscription_drop(self.destination, self.name, source=self.source_admin)
            with databases.admin_connect(self.destination_admin) as conn:
                did = databases.database_drop(conn, self.destination.name)
        replication.slot_drop(self.source_admin, self.name)
        replication.publication_drop(self.source, self.name)
        return did

    def destination_create(self) -> str:
        affiliate_database.affiliate_role_ensure(self.destination_admin, self.affiliate)
        with databases.admin_connect(self.destination_admin) as conn:
            databases.database_create(conn, self.destination.name)
            databases.database_lock_down(conn, self.destination.name, role=role_of(self.affiliate))
        return f"{self.destination.name} on {self.move.destination_server.name}"

    def replicate(self) -> str:
        replication.database_copy(self.source, self.destination, schema_only=True)
        replication.publication_ensure(self.source, self.name)
        replication.subscription_ensure(self.destination, self.name, source=self.source)
        replication.initial_copy_wait(self.destination, self.name, seconds=settings.MOVE_COPY_SECONDS)
        return "rows copied; changes stream until the pause"

    # --- the pause ---

    def pause_begin(self) -> datetime.datetime:
        until = timezone.now() + datetime.timedelta(seconds=settings.MOVE_PAUSE_SECONDS)
        Affiliate.objects.filter(pk=self.affiliate.pk).update(write_pause_until=until)
        routing_changed()
        # The requests already running finish on the source; none starts there again. A request runs
        # several short transactions (its session, its login, its view), so the source counts as
        # quiet once none was seen for MOVE_QUIET_WINDOW_SECONDS on end (MOVE_QUIET_SECONDS at most).
        deadline = time.monotonic() + settings.MOVE_QUIET_SECONDS
        quiet_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < settings.MOVE_QUIET_WINDOW_SECONDS:
            if replication.busy_sessions(self.source, role_of(self.affiliate)):
                quiet_since = time.monotonic()
            time.sleep(0.005)
        with databases.admin_connect(self.source_admin) as conn:
            databases.role_login_set(conn, role_of(self.affiliate), login=False)
        return until

    def pause_end_on_source(self) -> None:
        """Back to serving from the source: its role logs in again and the pause is lifted."""
        with databases.admin_connect(self.source_admin) as conn:
            if databases.role_exists(conn, role_of(self.affiliate)):
                databases.role_login_set(conn, role_of(self.affiliate), login=True)
        Affiliate.objects.filter(pk=self.affiliate.pk).update(write_pause_until=None)
        routing_changed()

    def last_changes(self) -> str:
        if self.move.method == AffiliateMove.Method.DUMP:
            replication.database_copy(self.source, self.destination, schema_only=False)
            return "dumped and restored"
        lsn = replication.catch_up_wait(self.source_admin, self.name, seconds=settings.MOVE_CATCH_UP_SECONDS)
        sequences = replication.sequences_copy(self.source, self.destination)
        replication.subscription_drop(self.destination, self.name, source=self.source_admin)
        replication.publication_drop(self.source, self.name)
        return f"caught up to {lsn}; {sequences} sequences set"

    def check(self) -> str:
        with ThreadPoolExecutor(max_workers=2) as pool:
            source = pool.submit(replication.fingerprints, self.source)
            copy = pool.submit(replication.fingerprints, self.destination)
            found, copied = source.result(), copy.result()
        wrong = replication.differences(found, copied)
        if wrong:
            raise replication.CopyError("the copy differs from the source: " + "; ".join(wrong[:5]))
        rows = sum(count for count, _ in found.values())
        self.move.tables_checked, self.move.rows_checked = len(found), rows
        return f"{len(found)} tables, {rows} rows: counts and checksums match"

    def switch(self, pause_started: float) -> str:
        pause_ms = int((time.monotonic() - pause_started) * 1000)
        with transaction.atomic():
            Affiliate.objects.filter(pk=self.affiliate.pk).update(
                database_server=self.move.destination_server, write_pause_until=None, updated_at=timezone.now()
            )
            self.state(
                AffiliateMove.State.SWITCHED,
                pause_ms=pause_ms,
                tables_checked=self.move.tables_checked,
                rows_checked=self.move.rows_checked,
            )
            routing_changed()
        return f"{self.affiliate.slug} serves from {self.move.destination_server.name}; write pause {pause_ms} ms"

    # --- after the switch ---

    def source_drop(self) -> str:
        with databases.admin_connect(self.destination_admin) as conn:
            databases.role_login_set(conn, role_of(self.affiliate), login=True)
        pooler = pooler_for(self.move.source_server)
        told = pooler_admin.database_sessions_end(pooler, self.source.name) if pooler else "no pooler"
        replication.subscription_drop(self.destination, self.name, source=self.source_admin)
        with databases.admin_connect(self.source_admin) as conn:
            databases.database_drop(conn, self.source.name)
            databases.role_drop(conn, role_of(self.affiliate))
        return f"{self.source.name} dropped from {self.move.source_server.name}; {told}"


def _move_run(move: AffiliateMove, *, progress: Progress = _quiet) -> AffiliateMove:
    run = _Move(move, progress)
    AffiliateMove.objects.filter(pk=move.pk).update(attempts=move.attempts + 1, updated_at=timezone.now())
    current = Affiliate.objects.filter(pk=move.affiliate_id).values_list("database_server_id", flat=True).first()
    if move.state in (AffiliateMove.State.PENDING, AffiliateMove.State.COPYING, AffiliateMove.State.PAUSING):
        if current == move.destination_server_id:  # cannot happen (the switch is one transaction): say so
            run.state(AffiliateMove.State.SWITCHED, "found switched")
        else:
            _before_switch(run, resumed=move.state != AffiliateMove.State.PENDING)
    if run.move.state == AffiliateMove.State.SWITCHED:
        run.steps.step("move_cleanup", run.source_drop)
        run.state(AffiliateMove.State.DONE, run.move.state_detail, finished_at=timezone.now())
    return run.move


def _before_switch(run: _Move, *, resumed: bool) -> None:
    move = run.move
    if move.attempts >= settings.MOVE_ATTEMPTS:
        _roll_back(run, f"gave up after {move.attempts} attempts", state=AffiliateMove.State.FAILED)
        raise OperationError(f"the move of {run.affiliate.slug} gave up after {move.attempts} attempts")
    try:
        if resumed:  # an earlier attempt died before the switch: the source still is the gym's database
            run.steps.step("move_resume", lambda: _resume_clean(run))
        run.state(AffiliateMove.State.COPYING, f"to {move.destination_server.name} by {move.method}")
        run.steps.step("move_prepare", run.destination_create)
        if move.method == AffiliateMove.Method.LOGICAL:
            run.steps.step("move_copy", run.replicate)
        run.state(AffiliateMove.State.PAUSING)
        paused_at = time.monotonic()
        run.steps.step("move_pause", lambda: f"requests wait until {run.pause_begin():%H:%M:%S}")
        run.steps.step("move_catch_up", run.last_changes)
        run.steps.step("move_privileges", lambda: affiliate_database.affiliate_privileges_ensure(
            run.destination_admin, run.affiliate
        ))  # fmt: skip
        run.steps.step("move_check", run.check)
        run.steps.step("move_switch", lambda: run.switch(paused_at))
    except Exception as exc:
        _roll_back(run, f"rolled back: {describe(exc)}")
        raise


def _resume_clean(run: _Move) -> str:
    run.pause_end_on_source()
    run.destination_clear()
    return f"the earlier attempt stopped while {run.move.state}: starting the copy again"


def _roll_back(run: _Move, why: str, *, state: str = AffiliateMove.State.ROLLED_BACK) -> None:
    """Before the switch: the source serves on, the destination's copy goes."""
    try:
        run.steps.step("move_roll_back", lambda: _resume_clean(run) and why)
    finally:
        run.state(state, why, finished_at=timezone.now())
