"""`scripts/start`, the README's first command, serves the console as the chart deploys it: gunicorn,
the static files collected and served by the app, DEBUG off; and Ctrl-C stops everything it started.
It runs here against a fresh SQLite database and a Redis it starts itself, with KUBECONFIG naming a
cluster that does not answer, so its worker cannot touch the suite's cluster."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

from tests.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.once  # it brings its own stack


def unreachable_kubeconfig(path) -> str:
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n"
        "clusters: [{name: nowhere, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]\n"
        "users: [{name: nobody, user: {token: none}}]\n"
    )
    return str(path)


def processes_mentioning(text: str, where: str = "cmdline") -> list[str]:
    """Processes whose command line (or environment) holds `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/{where}", "rb") as source:
                said = source.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in said and pid != str(os.getpid()):
            found.append(f"{pid} {said[:200]}")
    return found


def session_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[3])


def keep_asking(url: str, seconds: float) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            requests.get(url, timeout=1)
        except requests.RequestException:
            time.sleep(0.05)


def as_in_a_terminal() -> None:
    """Ctrl-C reaches a command started from a terminal: undo an inherited 'ignore SIGINT'."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_scripts_start_serves_the_console_as_deployed_and_stops_everything_it_started(tmp_path):
    port, redis_port = free_port(), free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "KUBECONFIG": unreachable_kubeconfig(tmp_path / "kubeconfig"),
    }
    output = (tmp_path / "start.log").open("w")
    start = subprocess.Popen(
        [ROOT / "scripts/start", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=as_in_a_terminal,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def login_page():
            try:
                return requests.get(f"{base}/login/", timeout=5)
            except requests.ConnectionError:
                assert start.poll() is None, (tmp_path / "start.log").read_text()[-3000:]
                return None

        page = wait_for(login_page, timeout=180, interval=0.5, what="scripts/start's login page")
        said = (tmp_path / "start.log").read_text()
        assert "gunicorn, DEBUG off" in said and "log in as project-regular / " in said
        assert page.status_code == 200 and 'name="username"' in page.text
        stylesheet = re.search(r'href="(/static/console\.[0-9a-f]{12}\.css)"', page.text)
        assert stylesheet, "the page names its stylesheet by content hash, as collectstatic's manifest does"
        css = requests.get(base + stylesheet.group(1), timeout=5)
        assert css.status_code == 200 and "immutable" in css.headers["Cache-Control"]
        missing = requests.get(f"{base}/no-such-page/", timeout=5)
        assert missing.status_code == 404 and "Django tried these URL patterns" not in missing.text  # DEBUG off
        web = processes_mentioning(f"gunicorn console.wsgi --bind 127.0.0.1:{port}")
        # Ctrl-C must reach scripts/start alone, which stops each process with a TERM: a gunicorn
        # worker that gets SIGINT itself can deadlock in its signal handler and keep the port.
        assert web and all(session_of(int(line.split()[0])) != start.pid for line in web)
    finally:
        busy = threading.Thread(target=keep_asking, args=(f"{base}/login/", 3.0), daemon=True)
        busy.start()  # requests arriving while it stops, as when someone leaves a page open
        time.sleep(0.5)
        os.killpg(start.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
        start.wait(timeout=60)
        output.close()
    # Everything scripts/start ran (web server, worker and its pool, beat, Redis) had its REDIS_URL;
    # a worker's pool processes may take a moment to notice their parent is gone.
    wait_for(
        lambda: not processes_mentioning(f"REDIS_URL=redis://127.0.0.1:{redis_port}/0", "environ"),
        timeout=30,
        what="every process scripts/start ran to end",
    )
