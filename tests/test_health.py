"""The console's health answers, as a probe asks them: /healthz and /readyz answer whatever the
Host header (a probe names the pod's address), without a login, and /readyz says which of the
database and Redis does not answer; the worker's heartbeat grows old when its loop stops, which
its liveness probe (`manage.py worker_alive`) tells."""

import os
import signal
import subprocess
import time

import pytest

from tests import conftest
from tests.conftest import ROOT, VENV_BIN, Worker, free_port, wait_for

PROBE = {"HTTP_HOST": "10.244.0.17:8000"}  # kubelet's probe: the pod's address, which no allowed host lists


@pytest.fixture
def broker(settings, redis_server):
    settings.CELERY_BROKER_URL = redis_server.url
    return settings


def test_healthz_answers_without_a_login_or_an_allowed_host(client, db):
    answer = client.get("/healthz", **PROBE)
    assert (answer.status_code, answer.content) == (200, b"ok\n")
    assert client.head("/healthz", **PROBE).status_code == 200
    assert client.post("/healthz", **PROBE).status_code == 400  # anything but a probe meets the host check


def test_readyz_is_ready_when_the_database_and_redis_answer(client, db, broker):
    answer = client.get("/readyz", **PROBE)
    assert (answer.status_code, answer.json()) == (200, {"database": "ok", "redis": "ok"})


def test_readyz_names_redis_when_it_does_not_answer(client, db, broker, caplog):
    broker.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with caplog.at_level("WARNING", logger="console.health"):
        answer = client.get("/readyz", **PROBE)
    assert (answer.status_code, answer.json()) == (503, {"database": "ok", "redis": "unavailable"})
    assert "Redis does not answer" in caplog.text and "ConnectionError" in caplog.text  # the detail is logged
    assert "127.0.0.1" not in answer.content.decode()  # and not told to whoever asks


def worker_alive(env: dict, max_age: float) -> subprocess.CompletedProcess:
    command = [VENV_BIN / "python", "manage.py", "worker_alive", "--max-age", str(max_age)]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_the_workers_liveness_probe_fails_while_its_loop_is_stopped(
    django_db_setup, redis_server, control_plane, tmp_path
):
    heartbeat = tmp_path / "worker.heartbeat"
    env = {
        **os.environ,
        "DATABASE_URL": conftest.test_database_url(),
        "REDIS_URL": redis_server.url,
        "KUBECONFIG": str(control_plane.kubeconfig),
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "CONSOLE_WORKER_HEARTBEAT_FILE": str(heartbeat),
    }
    assert "not running" in worker_alive(env, 60).stderr
    worker = Worker(env, tmp_path / "worker.log")
    worker.start()
    try:
        alive = worker_alive(env, 60)
        assert alive.returncode == 0 and "alive" in alive.stdout
        os.kill(worker.process.pid, signal.SIGSTOP)  # a hung event loop: nothing touches the file
        time.sleep(2.5)
        stuck = worker_alive(env, 2)
        assert stuck.returncode == 1 and "last heartbeat is" in stuck.stderr
        os.kill(worker.process.pid, signal.SIGCONT)
        wait_for(lambda: worker_alive(env, 2).returncode == 0, timeout=20, what="the heartbeat to resume")
    finally:
        os.kill(worker.process.pid, signal.SIGCONT)
        worker.stop()
    assert not heartbeat.exists()


@pytest.mark.cluster
def test_two_beats_queueing_the_periodic_pass_in_one_interval_run_it_once(control_plane, broker, transactional_db):
    """Beat queues `scheduled_resync`; should a second beat ever run beside the first (a node cut off
    with the old one on it), its queueing within the same interval finds the pass done."""
    from console.reconcile import resync, scheduled_resync

    assert broker.CELERY_BEAT_SCHEDULE["resync"]["task"] == scheduled_resync.name
    # A pass must take less than the interval here: the first LIST of a CRD's objects after the API
    # server started answers 429 for a second while its cache fills, so one pass goes first.
    resync.apply()
    broker.CONSOLE_RESYNC_SECONDS = 1
    assert "Project" in scheduled_resync.apply().get()  # the first beat's: the pass ran
    assert scheduled_resync.apply().get() is None  # the second beat's, in the same interval
    time.sleep(1)
    assert "Project" in scheduled_resync.apply().get()  # the next interval's
