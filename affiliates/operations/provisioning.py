"""How an affiliate is born: requested, then given its own role, database and Flyway schema.

    requested → database_created → migrated → (seeded: local and test only) → active
         any step → failed (with the error; provisioning again retries from there)

1. :func:`affiliate_request` checks everything before anything is created, registers the
   affiliate as ``requested`` and queues its provisioning after the transaction commits.
2. :func:`affiliate_provision` (run by the Celery task) takes the affiliate's lock and runs the
   steps. Each step checks before it acts and names come from the slug, so running it again after
   a crash anywhere finds what an earlier attempt made and converges to ``active``.

What happens after birth (suspend, resume, archive) is in ``lifecycle.py``; the SQL each step runs
is in ``databases.py``; where the database goes is ``placement.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from affiliates import validation
from affiliates.audit import audited
from affiliates.errors import AffiliateBusy, OperationError, QueueUnavailable, describe
from affiliates.infra import credentials, databases, locks, queue, seeds
from affiliates.infra.targets import server_admin_target
from affiliates.models import Affiliate, AffiliateEvent, DatabaseServer, Domain
from affiliates.operations import affiliate_database, gym_logins
from affiliates.operations.affiliate_database import server_of
from affiliates.operations.events import StepRecorder
from affiliates.operations.placement import database_server_choose, database_server_default

log = logging.getLogger(__name__)

_T = TypeVar("_T")


# --- 1. the request: validation first, nothing created on bad input ---


@dataclass(frozen=True)
class AffiliateRequest:
    slug: str
    name: str
    domain: str
    owner_email: str | None
    seed: bool
    server: DatabaseServer


def affiliate_request_check(
    *,
    slug: str,
    name: str,
    domain: str,
    owner_email: str | None = None,
    seed: bool = False,
    server_name: str | None = None,
) -> AffiliateRequest:
    """Every check onboarding makes before creating anything; ValidationError lists each problem by field."""
    problems = _Problems()
    valid_slug = problems.check("slug", lambda: validation.validate_slug(slug))
    clean_name = problems.check("name", lambda: validation.validate_name(name))
    host = problems.check("domain", lambda: validation.validate_domain(domain))
    if owner_email:
        owner_email = owner_email.strip().lower()
        problems.check("owner_email", lambda: validate_email(owner_email))
    _registry_conflicts(problems, slug=valid_slug, host=host)
    # Checks create nothing, not even the server row (an unsaved "local" stands in until registered).
    server = problems.check("server", lambda: database_server_choose(server_name=server_name))
    if server is None:
        raise ValidationError(problems.by_field)
    if seed:
        problems.check("seed", lambda: _seed_check(server))
    if valid_slug and "slug" not in problems.by_field:
        _server_conflicts(problems, slug=valid_slug, server=server)
    # A name or host is None only with its problem recorded; saying so narrows their types.
    if problems.by_field or clean_name is None or host is None:
        raise ValidationError(problems.by_field)
    return AffiliateRequest(slug, clean_name, host, owner_email or None, seed, server)


class _Problems:
    """What is wrong with a request, by field, in the order found (a ValidationError's message dict)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, *messages: str) -> None:
        self.by_field.setdefault(field, []).extend(messages)

    def check(self, field: str, fn: Callable[[], _T]) -> _T | None:
        """What ``fn`` returns, or None with its ValidationError's messages recorded for ``field``."""
        try:
            return fn()
        except ValidationError as exc:
            self.add(field, *exc.messages)
            return None


def _registry_conflicts(problems: _Problems, *, slug: str | None, host: str | None) -> None:
    """Record a valid slug or domain that another affiliate already has."""
    if slug and Affiliate.objects.filter(schema_name__iexact=slug).exists():
        problems.add("slug", f"The slug {slug!r} is already taken.")
    if host and Domain.objects.filter(domain=host).exists():
        problems.add("domain", f"The domain {host!r} is already taken.")


def _server_conflicts(problems: _Problems, *, slug: str, server: DatabaseServer) -> None:
    """Record a database or role on the server, belonging to no affiliate, named as the slug's would be."""
    database_name, role = validation.database_name_for(slug), validation.role_name_for(slug)
    with databases.admin_connect(server_admin_target(server)) as conn:
        if databases.database_exists(conn, database_name):
            problems.add(
                "slug",
                f"A database named {database_name!r} already exists on {server.name} and belongs to no "
                f"affiliate; choose another slug.",
            )
        elif databases.role_exists(conn, role):
            problems.add("slug", f"A role named {role!r} already exists on {server.name}; choose another slug.")


def _seed_check(server: DatabaseServer) -> None:
    try:
        seeds.assert_seeding_allowed(server.host)
    except seeds.SeedGuardError as exc:
        raise ValidationError(str(exc)) from exc


def affiliate_request(
    *,
    slug: str,
    name: str,
    domain: str,
    owner_email: str | None = None,
    seed: bool = False,
    server_name: str | None = None,
    requested_by: str = "",
    channel: str = "command",
    enqueue: bool = True,
) -> Affiliate:
    """Validate, place, register the affiliate as ``requested`` and enqueue its provisioning after commit."""
    detail = f"domain {domain}" + (", with an owner login for its contact address" if owner_email else "")
    with audited("provision", actor=requested_by, channel=channel, target=slug, detail=detail):
        affiliate = _affiliate_register(
            affiliate_request_check(
                slug=slug, name=name, domain=domain, owner_email=owner_email, seed=seed, server_name=server_name
            ),
            requested_by=requested_by,
            enqueue=enqueue,
        )
    return affiliate


def _affiliate_register(req: AffiliateRequest, *, requested_by: str, enqueue: bool) -> Affiliate:
    server = req.server
    try:
        with transaction.atomic():
            if server.pk is None:
                server = database_server_default()
            affiliate: Affiliate = Affiliate.objects.create(
                schema_name=req.slug,
                name=req.name,
                status=Affiliate.Status.REQUESTED,
                database_server=server,
                database_name=validation.database_name_for(req.slug),
                database_role=validation.role_name_for(req.slug),
                # Derived locally; with Secrets Manager, the create_role step makes the secret and sets it.
                secret_ref=credentials.DERIVED_SECRET_REF if settings.AFFILIATE_CREDENTIALS == "derived" else "",
                seed_requested=req.seed,
                # The owner's login is made in the gym's own database when it is provisioned (owner_login).
                contact_email=req.owner_email or "",
            )
            Domain.objects.create(domain=req.domain, tenant=affiliate, is_primary=True)
            AffiliateEvent.objects.create(
                affiliate=affiliate,
                step="requested",
                outcome=AffiliateEvent.Outcome.SUCCEEDED,
                duration_ms=0,
                requested_by=requested_by,
            )
            if enqueue:
                transaction.on_commit(lambda: _enqueue_or_leave(affiliate.pk, requested_by))
    except (IntegrityError, ValidationError) as exc:
        # Someone registered the same slug or domain between our checks and our insert (the unique
        # constraints, or TenantMixin's case-insensitive check, caught it).
        raise ValidationError(f"The slug {req.slug!r} or the domain {req.domain!r} is already taken.") from exc
    return affiliate


def affiliate_enqueue(*, affiliate_id: int, requested_by: str = "") -> str:
    """Queue provisioning (or a retry) for an affiliate; returns the Celery task id.

    QueueUnavailable when Redis cannot be reached: the affiliate stays registered, the failure is
    in its event log, and the reconciler queues it once the queue is back.
    """
    started = time.monotonic()
    try:
        return queue.send(queue.PROVISION, affiliate_id, requested_by)
    except QueueUnavailable as exc:
        AffiliateEvent.objects.create(
            affiliate_id=affiliate_id,
            step="enqueue",
            outcome=AffiliateEvent.Outcome.FAILED,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=str(exc),
            requested_by=requested_by,
        )
        Affiliate.objects.filter(pk=affiliate_id).update(
            status_detail=f"not queued yet: {exc}", updated_at=timezone.now()
        )
        slug = Affiliate.objects.filter(pk=affiliate_id).values_list("schema_name", flat=True).first()
        raise QueueUnavailable(
            f"{exc}; {slug} is registered and the reconciler queues it once the queue is back"
        ) from exc


def _enqueue_or_leave(affiliate_id: int, requested_by: str) -> None:
    """After commit: queue, or leave it to the reconciler (the failure is in the event log)."""
    try:
        affiliate_enqueue(affiliate_id=affiliate_id, requested_by=requested_by)
    except QueueUnavailable:
        pass


def affiliate_retry(*, affiliate_id: int, requested_by: str = "", channel: str = "command") -> str:
    """Queue provisioning again for an affiliate that is not suspended or archived."""
    affiliate: Affiliate = Affiliate.objects.get(pk=affiliate_id)
    with audited("retry", actor=requested_by, channel=channel, target=affiliate.slug):
        if affiliate.status in (Affiliate.Status.ARCHIVED, Affiliate.Status.SUSPENDED):
            raise OperationError(f"{affiliate.slug} is {affiliate.status}; it cannot be provisioned again")
        return affiliate_enqueue(affiliate_id=affiliate_id, requested_by=requested_by)


# --- 2. the steps ---


def affiliate_provision(
    *, affiliate_id: int, requested_by: str = "", progress: Callable[[AffiliateEvent], None] | None = None
) -> Affiliate:
    """Bring an affiliate to ``active``, step by step; safe to run again after any failure."""
    with locks.affiliate_lock(affiliate_id) as acquired:
        if not acquired:
            raise AffiliateBusy(f"affiliate {affiliate_id} is being provisioned by another worker")
        affiliate: Affiliate = Affiliate.objects.select_related("database_server").get(pk=affiliate_id)
        if affiliate.status == Affiliate.Status.ACTIVE:
            return affiliate
        if affiliate.status in (Affiliate.Status.SUSPENDED, Affiliate.Status.ARCHIVED):
            raise OperationError(f"{affiliate.slug} is {affiliate.status}; it cannot be provisioned")
        steps = StepRecorder(affiliate, requested_by, progress)
        admin = server_admin_target(server_of(affiliate))
        try:
            steps.step("create_role", lambda: affiliate_database.affiliate_role_ensure(admin, affiliate))
            steps.step(
                "create_database",
                lambda: affiliate_database.affiliate_database_ensure(admin, affiliate),
                status_after=_later(affiliate.status, Affiliate.Status.DATABASE_CREATED),
            )
            steps.step("migrate", lambda: affiliate_database.affiliate_schema_ensure(admin, affiliate))
            steps.step(
                "grant_privileges",
                lambda: affiliate_database.affiliate_privileges_ensure(admin, affiliate),
                status_after=_later(affiliate.status, Affiliate.Status.MIGRATED),
            )
            if affiliate.seed_requested:
                steps.step(
                    "seed",
                    lambda: affiliate_database.affiliate_seed(admin, affiliate),
                    status_after=_later(affiliate.status, Affiliate.Status.SEEDED),
                )
            # The owner's login, in the gym's own database, without a password (an invitation sets it).
            steps.step("owner_login", lambda: gym_logins.owner_login_ensure(affiliate))
            steps.step("activate", lambda: True)
            steps.set_status(Affiliate.Status.ACTIVE, activated_at=timezone.now())
        except Exception as exc:
            steps.set_status(Affiliate.Status.FAILED, detail=describe(exc))
            raise
        _owners_invite(affiliate, requested_by)
        return affiliate


def _owners_invite(affiliate: Affiliate, requested_by: str) -> None:
    """Mail each owner who never set a password a link to set one (at activation). A mail that cannot be
    sent is recorded, and staff can send the link again from the command center."""
    started = time.monotonic()
    try:
        addresses = gym_logins.owners_invite(affiliate)
    except Exception as exc:  # the gym is active either way: say what happened to the invitation
        outcome, detail, error = AffiliateEvent.Outcome.FAILED, "", describe(exc)
    else:
        if not addresses:
            return
        outcome, error = AffiliateEvent.Outcome.SUCCEEDED, ""
        detail = f"password link sent to {len(addresses)} owner login(s)"
    AffiliateEvent.objects.create(
        affiliate=affiliate,
        step="invite_owner",
        outcome=outcome,
        duration_ms=int((time.monotonic() - started) * 1000),
        detail=detail,
        error=error,
        requested_by=requested_by,
    )


_ORDER: list[str] = [
    Affiliate.Status.REQUESTED,
    Affiliate.Status.FAILED,
    Affiliate.Status.DATABASE_CREATED,
    Affiliate.Status.MIGRATED,
    Affiliate.Status.SEEDED,
    Affiliate.Status.ACTIVE,
]


def _later(current: str, proposed: str) -> str:
    """Status moves forward only (a retry from ``failed`` moves on as its steps succeed)."""
    return proposed if _ORDER.index(proposed) > _ORDER.index(current) or current == Affiliate.Status.FAILED else current
