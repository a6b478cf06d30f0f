"""The affiliate registry in the management database (tables from sql/affiliate_management), by part:
``registry`` (servers, affiliates, domains, notes, events), ``runs`` (fleet migrations), ``audit`` (the
staff audit trail), ``operations`` (moves, load, backups)."""

from affiliates.models.audit import StaffAudit, StaffAuditChainHead
from affiliates.models.operations import AffiliateBackup, AffiliateLoad, AffiliateLoadDay, AffiliateMove, BackupDrill
from affiliates.models.registry import (
    POOLER_ADDRESS_RE,
    Affiliate,
    AffiliateEvent,
    AffiliateManager,
    AffiliateNote,
    DatabaseServer,
    Domain,
    Membership,
    validate_pooler_address,
)
from affiliates.models.runs import MigrationRun, MigrationRunAffiliate

__all__ = [
    "Affiliate",
    "AffiliateBackup",
    "AffiliateEvent",
    "AffiliateLoad",
    "AffiliateLoadDay",
    "AffiliateManager",
    "AffiliateMove",
    "AffiliateNote",
    "BackupDrill",
    "DatabaseServer",
    "Domain",
    "Membership",
    "MigrationRun",
    "MigrationRunAffiliate",
    "POOLER_ADDRESS_RE",
    "StaffAudit",
    "StaffAuditChainHead",
    "validate_pooler_address",
]
