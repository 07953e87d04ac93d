"""Conditions in the shape Kubernetes uses: {type, status, reason, message, last_transition_time}."""

from datetime import datetime

STATUSES = ("True", "False", "Unknown")


def condition(type_: str, status: bool | str, reason: str, message: str = "") -> dict:
    if isinstance(status, bool):
        status = "True" if status else "False"
    if status not in STATUSES:
        raise ValueError(f"condition status must be one of {STATUSES}, not {status!r}")
    return {"type": type_, "status": status, "reason": reason, "message": message}


def cleared(type_: str) -> dict:
    """An update that removes a condition of `type_`, which no longer applies."""
    return {"type": type_, "status": None}


def merge(existing: list[dict], updates: list[dict], now: datetime) -> list[dict]:
    """`existing` with `updates` applied by type (`cleared` ones removed). A condition keeps its
    last transition time while its status stays the same, as the Kubernetes API conventions ask."""
    merged = {item["type"]: dict(item) for item in existing}
    for update in updates:
        if update["status"] is None:
            merged.pop(update["type"], None)
            continue
        previous = merged.get(update["type"])
        changed = previous is None or previous.get("status") != update["status"]
        stamp = now.isoformat() if changed else previous.get("last_transition_time", now.isoformat())
        merged[update["type"]] = {**update, "last_transition_time": stamp}
    return list(merged.values())


def find(conditions: list[dict], type_: str) -> dict | None:
    return next((item for item in conditions if item.get("type") == type_), None)
