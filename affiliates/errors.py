"""Errors of operations on affiliates; their messages are shown to staff and operators as they are."""


class OperationError(Exception):
    """An operation on an affiliate or the fleet (provision, suspend, archive, restore, migrate, …) cannot go
    on; the message says why."""


class AffiliateBusy(OperationError):
    """Another worker holds this affiliate's lock right now and will finish the job."""


class BackupError(OperationError):
    """A backup could not be taken or does not read back; nothing was dropped."""


class QueueUnavailable(OperationError):
    """The task queue (Redis) cannot be reached; what was registered stays, and the reconciler queues
    it once the queue is back."""


class ToolError(Exception):
    """A tool's failure (Flyway) whose message already says what failed, where and why."""


def describe(exc: BaseException) -> str:
    """An error as staff read it: a tool's own message, else the exception's type and message."""
    if isinstance(exc, ToolError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}".strip()
