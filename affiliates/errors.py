"""Errors of operations on an affiliate; their messages are shown to staff and operators as they are."""


class ProvisioningError(Exception):
    """An operation on an affiliate (provision, suspend, resume, archive) cannot go on; the message says why."""


class ProvisioningBusy(ProvisioningError):
    """Another worker holds this affiliate's lock right now and will finish the job."""


class BackupError(ProvisioningError):
    """A backup could not be taken or does not read back; nothing was dropped."""


class QueueUnavailable(ProvisioningError):
    """The task queue (Redis) cannot be reached; what was registered stays, and the reconciler queues
    it once the queue is back."""
