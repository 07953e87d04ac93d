from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from console import conditions as cond


class ReconciledModel(models.Model):
    """A row the workers reconcile into the cluster.

    `generation` counts the changes a user made; `observed_generation` is the last one the
    cluster was brought in line with; `conditions` hold what the cluster answered.
    """

    generation = models.PositiveBigIntegerField(default=1, editable=False)
    observed_generation = models.PositiveBigIntegerField(default=0, editable=False)
    conditions = models.JSONField(default=list, blank=True, editable=False)
    # The Ready condition's reason, kept in a column so the periodic pass can select what waits
    # on something (a host, a backend) without reading every row's conditions.
    ready_reason = models.CharField(max_length=64, blank=True, editable=False, db_index=True)

    class Meta:
        abstract = True

    @property
    def in_sync(self) -> bool:
        return self.observed_generation >= self.generation

    @property
    def settled(self) -> bool:
        """Whether nothing is under way: the last change is reconciled and the object is Ready, or
        failed, or off. Pages refresh an object's status until it is settled."""
        return self.in_sync and self.state not in ("Pending", "Deleting")

    def condition(self, type_: str) -> dict | None:
        # Lists ask for a row's conditions many times over; index them once per loaded list.
        indexed = self.__dict__.get("_conditions_by_type")
        if indexed is None or indexed[0] is not self.conditions:
            indexed = (self.conditions, {item.get("type"): item for item in self.conditions})
            self.__dict__["_conditions_by_type"] = indexed
        return indexed[1].get(type_)

    @property
    def state(self) -> str:
        """One word for lists: Ready, Pending, Deleting or Error."""
        ready = self.condition("Ready")
        if getattr(self, "deletion_requested", False):
            return "Deleting"
        if ready and ready["status"] == "False" and ready["reason"] not in PENDING_REASONS:
            return "Error"
        if self.in_sync and ready and ready["status"] == "True":
            return "Ready"
        return "Pending"

    @property
    def state_message(self) -> str:
        ready = self.condition("Ready")
        return ready["message"] if ready else ""

    @classmethod
    def record_status(cls, pk, updates: list[dict], observed_generation: int | None = None, **fields) -> int | None:
        """Writes what the cluster answered without touching the fields users edit. Returns the row's
        generation as it was read here (None when the row is gone)."""
        return cls.record_statuses({pk: Answer(updates, observed_generation, fields)}).get(pk)

    @classmethod
    def record_statuses(cls, answers: dict) -> dict:
        """record_status for many rows, {pk: Answer}: one read, then one UPDATE statement per set of
        fields, sent for all its rows at once (executemany: one round trip with psycopg's pipeline).
        Returns {pk: generation as read here} for the rows that still exist."""
        rows = cls.objects.filter(pk__in=list(answers)).values_list("pk", "conditions", "generation")
        now, generations, batches = timezone.now(), {}, {}
        for pk, current, generation in rows:
            answer = answers[pk]
            merged = cond.merge(current, answer.updates, now)
            ready = cond.find(merged, "Ready")
            values = {"conditions": merged, "ready_reason": ready["reason"] if ready else "", **answer.fields}
            if answer.observed_generation is not None:
                values["observed_generation"] = answer.observed_generation
            batches.setdefault(tuple(values), []).append((pk, values))
            generations[pk] = generation
        with transaction.atomic(), connection.cursor() as cursor:
            for names, batch in batches.items():
                cursor.executemany(cls._status_update_sql(names), [cls._status_params(names, *row) for row in batch])
        return generations

    @classmethod
    def _status_update_sql(cls, names: tuple[str, ...]) -> str:
        quote = connection.ops.quote_name
        greatest = "MAX" if connection.vendor == "sqlite" else "GREATEST"
        assignments = []
        for name in names:
            column = quote(cls._meta.get_field(name).column)
            # Never move backwards: a slower, older run must not undo a newer one's answer.
            value = f"{greatest}({column}, %s)" if name == "observed_generation" else "%s"
            assignments.append(f"{column} = {value}")
        where = f"{quote(cls._meta.pk.column)} = %s"
        return f"UPDATE {quote(cls._meta.db_table)} SET {', '.join(assignments)} WHERE {where}"

    @classmethod
    def _status_params(cls, names: tuple[str, ...], pk, values: dict) -> list:
        fields = [cls._meta.get_field(name) for name in names]
        return [field.get_db_prep_save(values[field.name], connection) for field in fields] + [pk]


@dataclass
class Answer:
    """What the cluster answered for one row: condition updates, the generation they answer (None
    when the row's spec was not brought in line) and other status fields."""

    updates: list[dict]
    observed_generation: int | None = None
    fields: dict = dataclass_field(default_factory=dict)


# Ready=False with these reasons means "on its way", not a failure to show in red.
PENDING_REASONS = {
    "Pending",
    "Reconciling",
    "Terminating",
    "WaitingForNamespace",
    "WaitingForLoadBalancer",
    "ControllerNotReady",
    "RollingOut",
    "ControllerUnschedulable",  # the scheduler keeps trying; a node may come
    "GatewayNotReady",
    "WaitingForGatewayAddress",
}


def fill_ready_reason(app_label: str, model_name: str):
    """A migration step that copies each row's Ready reason into its ready_reason column."""

    def fill(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for pk, conditions in model.objects.values_list("pk", "conditions").iterator():
            ready = cond.find(conditions or [], "Ready")
            if ready:
                model.objects.filter(pk=pk).update(ready_reason=ready["reason"])

    return fill


def stale_edit(what: str, current: int, edited: int) -> ValidationError:
    """The error for an edit made from an older copy of a reconciled row (the API answers 409)."""
    message = (
        f"The {what} was changed by someone else (generation {current}, you edited {edited}); "
        "reload it and make your change again."
    )
    return ValidationError({"generation": ValidationError(message, code="stale")})


def is_stale(error: ValidationError) -> bool:
    """Whether a service refused an edit for being made from an older copy (stale_edit)."""
    return any(e.code == "stale" for e in getattr(error, "error_dict", {}).get("generation", []))
