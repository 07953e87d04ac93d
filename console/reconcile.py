"""The reconcile machinery shared by every app.

A change to a reconciled row bumps its generation and, once the transaction commits,
enqueues that row's reconcile task. The periodic `resync` task re-enqueues whatever is
not yet in sync and asks each reconciler for objects that drifted in the cluster, so
a change survives Redis, a worker or the API server being down for a while.
"""

import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import redis
from celery import shared_task
from celery.exceptions import Ignore
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from kombu.exceptions import OperationalError

from console.cluster import ClusterError, kind_of
from console.conditions import condition
from console.models import Answer
from console.validators import is_number

log = logging.getLogger(__name__)

# Failed reconciles retry with exponential backoff and full jitter, capped; after the
# last retry the periodic pass picks the object up again.
RETRY_FACTOR_SECONDS = 2
RETRY_MAX_SECONDS = 120
MAX_RETRIES = 8


def retry_later(task, error: Exception):
    """Raises Celery's Retry for `task` after a backoff delay: for failures, which count retries."""
    countdown = get_exponential_backoff_interval(
        RETRY_FACTOR_SECONDS, task.request.retries, RETRY_MAX_SECONDS, full_jitter=True
    )
    raise task.retry(exc=error, countdown=countdown, max_retries=MAX_RETRIES)


def again_later(task, pk, seconds: float) -> NoReturn:
    """Ends this run and queues the object's reconcile again in `seconds`: for waiting on something
    slow (a namespace being created or removed, another run's lock), which is not a failure and must
    not use up the retries failures count (controller-runtime's RequeueAfter)."""
    look_again(task, pk, seconds)
    raise Ignore()


def look_again(task, pk, seconds: float) -> None:
    """Queues `task` for the object in `seconds`. One such look is pending per object at a time, so
    that runs the periodic pass adds while it waits do not each start a chain of their own. Should
    Redis not take the message, the periodic pass queues the object again."""
    if first_in_interval(task, pk, seconds):
        _queue_in(task, pk, seconds)


def retry_alone(task, pk) -> None:
    """Queues the first retry of one object that failed within a run over many, with the backoff a
    failed run of its own would get; its later retries count as usual."""
    _queue_in(task, pk, get_exponential_backoff_interval(RETRY_FACTOR_SECONDS, 0, RETRY_MAX_SECONDS, full_jitter=True))


def _queue_in(task, pk, seconds: float) -> None:
    try:
        task.apply_async((pk,), countdown=seconds)
    except OperationalError as error:
        log.warning("could not queue %s(%s) again, the next resync will: %s", task.name, pk, error)


def first_in_interval(task, key, seconds: float) -> bool:
    """Claims the task's `key` (an object's primary key, say) for a little less than `seconds`: True
    for the first caller of an interval, on any host, so that the run it leads to can claim the next;
    True too when Redis cannot say (a run too many does no harm)."""
    claim = f"kubeconsole:again:{task.name}:{key}"
    try:
        return bool(_lock_client(task.app.conf.broker_url).set(claim, 1, nx=True, px=int(seconds * 900)))
    except redis.RedisError:
        return True


NAMESPACE_POLL_SECONDS = 2
# How soon an object whose gateway is switching between Ingress and the Gateway API looks again
# whether the controller runs the new configuration, to let go of what the earlier one served.
SWITCH_LOOK_SECONDS = 2
# A controller starts a few seconds after its Deployment is applied. Until it is rolled out its
# gateway (and a route waiting on it) is looked at again: every second for the first five, when it
# usually becomes ready, then after growing delays, about a minute in all; after that the periodic
# pass watches it.
OBSERVE_DELAYS = (1, 1, 1, 1, 1, 2, 3, 5, 8, 13, 21)


def send_later(task, pk, attempt: int) -> None:
    """Queues the `attempt`th observation of an object, OBSERVE_DELAYS[attempt] seconds from now."""
    try:
        task.apply_async((pk, attempt), countdown=OBSERVE_DELAYS[attempt])
    except OperationalError as error:
        log.warning("could not queue %s(%s), the next resync will look: %s", task.name, pk, error)


def apply_failed(error: ClusterError) -> list[dict]:
    """The conditions of an object whose apply the cluster refused or could not take."""
    return [
        condition("Synced", False, "ApplyFailed", error.message),
        condition("Ready", False, "ApplyFailed", error.message),
    ]


def wait_for_namespace(task, model, instance) -> NoReturn:
    """The object's namespace is not ready yet (still being created, say): show that it waits, and
    look again shortly."""
    message = f"Waiting for namespace {instance.namespace} to be ready."
    waiting = [condition(kind, False, "WaitingForNamespace", message) for kind in ("Synced", "Ready")]
    model.record_status(instance.pk, waiting)
    again_later(task, instance.pk, NAMESPACE_POLL_SECONDS)


# While one worker reconciles an object, another run for the same object waits this long and
# tries again; runs for different objects go on in parallel. A lock outlives a killed worker by at
# most LOCK_SECONDS, which a reconcile takes only when the API server hangs; a run that long may
# then overlap the next, which requeue_if_changed makes safe.
BUSY_RETRY_SECONDS = 0.5
LOCK_SECONDS = 15
_redis: dict[tuple[int, str], redis.Redis] = {}


def _lock_client(url: str) -> redis.Redis:
    key = (os.getpid(), url)
    if key not in _redis:
        _redis[key] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _redis[key]


def _owner_token() -> str:
    """Who holds a lock: this host and process, and a unique part so that only the holder releases it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"


def _holder_died(lock) -> bool:
    """Frees a lock whose holder was a process of this host that no longer runs (a worker killed
    mid-reconcile), rather than waiting for it to expire. Holders on other hosts are left alone."""
    token = lock.redis.get(lock.name)
    host, _, rest = (token or b"").decode().partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not is_number(pid):
        return False
    try:
        os.kill(int(pid), 0)
        return False
    except ProcessLookupError:
        pass
    except PermissionError:  # alive, someone else's
        return False
    try:
        lock.do_release(token)  # only if it still holds that token
    except redis.exceptions.LockNotOwnedError:
        pass
    return True


def _lock(task, model, pk):
    return _lock_client(task.app.conf.broker_url).lock(
        f"kubeconsole:reconcile:{model.__name__}:{pk}", timeout=LOCK_SECONDS
    )


def _take(lock, model, pk) -> bool | None:
    """True when this run now holds the object's lock, False when another run does, None when
    Redis cannot say (the run goes on without it)."""
    try:
        return lock.acquire(blocking=False, token=_owner_token()) or (
            _holder_died(lock) and lock.acquire(blocking=False, token=_owner_token())
        )
    except redis.RedisError as error:
        log.warning("reconciling %s %s without its lock: %s", model.__name__, pk, error)
        return None


def _give_back(lock, model, pk) -> None:
    try:
        lock.release()
    except redis.RedisError as error:  # gone or expired: it lapses by itself
        log.warning("could not release the lock of %s %s: %s", model.__name__, pk, error)


@contextmanager
def exclusively(task, model, pk):
    """Runs the body while holding this object's lock in Redis, so that two workers never reconcile
    one object at once. When another run holds it, this run is queued again shortly instead. Without
    Redis (the task could not have been delivered then, but tests call tasks directly) it runs."""
    lock = _lock(task, model, pk)
    held = _take(lock, model, pk)
    if held is False:  # busy, not failing: look again shortly
        again_later(task, pk, BUSY_RETRY_SECONDS)
    try:
        yield
    finally:
        if held:
            _give_back(lock, model, pk)


@contextmanager
def exclusively_each(task, model, pks: list):
    """`exclusively` for a run over many objects: yields those of `pks` this run now holds; each one
    another run holds is looked at again shortly by `task`, which takes one object."""
    locks = {pk: _lock(task, model, pk) for pk in pks}
    held = {pk: _take(lock, model, pk) for pk, lock in locks.items()}
    for pk in [pk for pk, state in held.items() if state is False]:
        look_again(task, pk, BUSY_RETRY_SECONDS)
    try:
        yield [pk for pk in pks if held[pk] is not False]
    finally:
        for pk, state in held.items():
            if state:
                _give_back(locks[pk], model, pk)


@dataclass(frozen=True)
class Reconciler:
    model: type[models.Model]
    task: object  # the Celery task taking the row's primary key
    drifted: Callable[[], list] | None = None  # primary keys of in-sync rows the cluster no longer matches
    many: object = None  # a task taking a list of primary keys, when the kind has one
    # Primary keys of the rows carrying an annotation key, or a key under a prefix ending in "/".
    carrying: Callable[[str], list] | None = None


_reconcilers: list[Reconciler] = []
# Called with a project before its namespace is deleted, to remove what lives outside it.
_namespace_cleanups: list[Callable] = []


# Called after an object of a kind is reconciled, with the object: e.g. routes follow their gateway.
_followers: dict[str, list[Callable]] = {}


def follow(kind: str, callback: Callable) -> None:
    _followers.setdefault(kind, []).append(callback)


def reconciled(kind: str, instance) -> None:
    for callback in _followers.get(kind, []):
        callback(instance)


def on_namespace_removal(cleanup: Callable) -> None:
    _namespace_cleanups.append(cleanup)


def before_namespace_removal(project) -> None:
    for cleanup in _namespace_cleanups:
        cleanup(project)


def check_namespace(manifests: list[dict], namespace: str) -> None:
    """Refuses to touch anything outside `namespace`: every namespaced manifest a task is about to
    apply must be in the namespace of the object the task was handed."""
    for manifest in manifests:
        kind = kind_of(manifest["apiVersion"], manifest["kind"])
        if kind.namespaced and manifest["metadata"].get("namespace") != namespace:
            target = manifest["metadata"].get("namespace") or "no namespace"
            raise PermissionError(
                f"refusing to apply {manifest['kind']} {manifest['metadata'].get('name')} in {target}: "
                f"this object may only touch namespace {namespace}"
            )


def refusal(model, pk, error: PermissionError) -> Answer:
    """A refused apply, shown on the object (nothing was written) instead of failing silently."""
    message = f"{error} (nothing was applied)."
    log.error("refused %s %s: %s", model.__name__, pk, error)
    return Answer(
        [
            condition("Synced", False, "OutsideNamespace", message),
            condition("Ready", False, "OutsideNamespace", message),
        ]
    )


def record_refusal(model, pk, error: PermissionError) -> str:
    model.record_statuses({pk: refusal(model, pk, error)})
    return "refused"


def register(model, task, drifted=None, many=None, carrying=None) -> None:
    _reconcilers.append(Reconciler(model, task, drifted, many, carrying))


def reconcile_carrying(key: str) -> None:
    """Queues, once the transaction commits, every row of every kind that carries the annotation
    key (or a key under the prefix): what the worker renders for it changed (a platform admin took
    an allowance back)."""
    for reconciler in _reconcilers:
        for pk in reconciler.carrying(key) if reconciler.carrying else []:
            enqueue(reconciler.task, pk)


def rows_carrying(queryset, field: str, key: str) -> list:
    """Primary keys of the rows whose JSON `field` has the key, or a key under the prefix."""
    rows = queryset.exclude(**{field: {}}).values_list("pk", field)
    return [pk for pk, found in rows if any(k == key or (key.endswith("/") and k.startswith(key)) for k in found)]


def send(task, pk) -> None:
    """Queues a reconcile now. When Redis is down this logs and returns: the periodic
    pass queues the object again once Redis is back, so the change is not lost."""
    try:
        task.delay(pk)
    except OperationalError as error:
        log.warning("could not queue %s(%s), the next resync will: %s", task.name, pk, error)


def enqueue(task, pk) -> None:
    """Queues a reconcile once the current transaction commits."""
    transaction.on_commit(lambda: send(task, pk))


def changed(instance) -> None:
    """Marks a reconciled row as changed: bumps its generation and queues its reconcile."""
    type(instance).objects.filter(pk=instance.pk).update(generation=F("generation") + 1)
    instance.refresh_from_db(fields=["generation"])
    enqueue(task_for(type(instance)), instance.pk)


def requeue_if_changed(instance, generation: int, current: int | None = None) -> None:
    """Called after applying what `generation` of a row asked for. Two runs for one row may overlap
    (a retry, a resync, a newer edit), so an older run's writes can land after a newer run's; when
    the row has moved on, one more run puts the newest spec in place last. `current` is the row's
    generation when the caller has just read it (record_status returns it)."""
    if current is None:
        moved_on = type(instance).objects.filter(pk=instance.pk, generation__gt=generation).exists()
    else:
        moved_on = current > generation
    if moved_on:
        send(task_for(type(instance)), instance.pk)


def task_for(model):
    for reconciler in _reconcilers:
        if reconciler.model is model:
            return reconciler.task
    raise LookupError(f"no reconciler registered for {model.__name__}")


# The periodic pass hands kinds that reconcile in bulk this many objects per task.
RESYNC_BATCH = 200


@shared_task(name="console.reconcile.scheduled_resync", ignore_result=True)
def scheduled_resync() -> dict | None:
    """What Celery beat queues every CONSOLE_RESYNC_SECONDS: the periodic pass, at most once an
    interval however many beats queue it. One beat runs (the chart's Recreate Deployment of one), but
    two can for a while, e.g. while the node of the old one is cut off; the second's runs find the
    interval claimed and do nothing. None when it did nothing."""
    if not first_in_interval(scheduled_resync, "periodic-pass", settings.CONSOLE_RESYNC_SECONDS):
        return None
    return resync()


@shared_task(name="console.reconcile.resync", ignore_result=True)
def resync() -> dict:
    """Re-enqueues every object whose observed generation lags, and every drifted one."""
    queued = {}
    for reconciler in _reconcilers:
        lagging = set(
            reconciler.model.objects.filter(observed_generation__lt=F("generation")).values_list("pk", flat=True)
        )
        if reconciler.drifted is not None:
            try:
                lagging.update(reconciler.drifted())
            except ClusterError as error:
                log.warning("drift check for %s failed: %s", reconciler.model.__name__, error.message)
        ordered = sorted(lagging)
        if reconciler.many is not None:
            for start in range(0, len(ordered), RESYNC_BATCH):
                send(reconciler.many, ordered[start : start + RESYNC_BATCH])
        else:
            for pk in ordered:
                send(reconciler.task, pk)
        queued[reconciler.model.__name__] = len(lagging)
    if any(queued.values()):
        log.info("resync queued %s", queued)
    return queued
