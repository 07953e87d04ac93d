from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Greatest
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

    class Meta:
        abstract = True

    @property
    def in_sync(self) -> bool:
        return self.observed_generation >= self.generation

    def condition(self, type_: str) -> dict | None:
        return cond.find(self.conditions, type_)

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
    def record_status(cls, pk, updates: list[dict], observed_generation: int | None = None, **fields) -> None:
        """Writes what the cluster answered without touching the fields users edit."""
        current = cls.objects.filter(pk=pk).values_list("conditions", flat=True).first()
        if current is None:
            return
        values = {"conditions": cond.merge(current, updates, timezone.now()), **fields}
        if observed_generation is not None:
            # Never move backwards: a slower, older run must not undo a newer one's answer.
            values["observed_generation"] = Greatest(F("observed_generation"), Value(observed_generation))
        cls.objects.filter(pk=pk).update(**values)


# Ready=False with these reasons means "on its way", not a failure to show in red.
PENDING_REASONS = {
    "Pending",
    "Reconciling",
    "Terminating",
    "WaitingForNamespace",
    "WaitingForLoadBalancer",
    "ControllerNotReady",
    "GatewayNotReady",
    "WaitingForGatewayAddress",
}
