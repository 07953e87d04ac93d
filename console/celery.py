"""The Celery application: Redis broker, settings from Django, tasks from every app; and the
worker's heartbeat, which its liveness probe reads (`manage.py worker_alive`)."""

import os
import tempfile
from pathlib import Path

from celery import Celery, bootsteps, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="reconcile")

HEARTBEAT_SECONDS = 10


@signals.task_prerun.connect
@signals.task_postrun.connect
def recycle_database_connections(task=None, **kwargs) -> None:
    """What Django does around each request, around each task: a connection that failed or is older
    than CONN_MAX_AGE is closed, and the next task opens a new one (rather than one per task). Not
    for a task run in its caller's process (`apply()`, as tests do): the connection is the caller's."""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


def heartbeat_file() -> Path:
    """Where a worker on this machine (or in this pod) says it is alive."""
    default = Path(tempfile.gettempdir()) / f"kube-console-worker-{os.getuid()}.heartbeat"
    return Path(os.environ.get("CONSOLE_WORKER_HEARTBEAT_FILE") or default)


class Heartbeat(bootsteps.StartStopStep):
    """Touches the heartbeat file every HEARTBEAT_SECONDS from the worker's own event loop: a loop
    that hangs stops touching it, and the liveness probe sees the file grow old."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_entry = None

    def start(self, worker):
        path = heartbeat_file()
        path.touch()
        self.timer_entry = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, path.touch, priority=10)

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
        heartbeat_file().unlink(missing_ok=True)


app.steps["worker"].add(Heartbeat)
