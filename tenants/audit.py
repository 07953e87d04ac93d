"""The audit log: every change to memberships, gateways, routes, projects, workspaces, accounts and
annotation allowances, with its author, the address the request came from, and its before and
after. Services call `record` inside their transaction, so a change and its entry land together or
not at all."""

from console.middleware import request_address
from tenants.models import AuditEntry

PLATFORM = "platform"  # the scope of changes to accounts and allowances


def record(by, kind: str, action: str, object_name: str, **details) -> AuditEntry:
    entry = entry_for(by, kind, action, object_name, **details)
    entry.save()
    return entry


def entry_for(
    by, kind: str, action: str, object_name: str, *, before=None, after=None, workspace=None, project=None
) -> AuditEntry:
    """An entry, not yet saved: for services that write many together."""
    workspace = workspace or (project.workspace if project else None)
    scope = f"{workspace.name}/{project.name}" if project else workspace.name if workspace else PLATFORM
    return AuditEntry(
        workspace=workspace,
        project=project,
        scope=scope,
        actor=by,
        actor_name=getattr(by, "username", "") or "system",
        kind=kind,
        object_name=object_name,
        action=action,
        before=before,
        after=after,
        address=request_address.get(),
    )
