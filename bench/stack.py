"""The whole console as a benchmark runs it, on this machine: the local control plane, Redis,
PostgreSQL, Celery workers and gunicorn, each a real process started here and stopped at the end.

    with Stack(web_workers=3, celery_workers=1) as stack:
        stack.url, stack.env ...
"""

import math
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """`pid` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def cpu_seconds_by_program() -> Counter:
    """CPU time (user + system, all threads) every process on the machine has used so far, summed by
    program name (kube-apiserver, etcd, postgres, celery, gunicorn, python for the benchmark itself).
    The difference of two readings says which program a phase kept busy."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name.startswith("kworker/"):  # named after the work queue it serves now: renamed as it goes
            name = "kworker"
        fields = text.rsplit(")", 1)[1].split()
        used[name] += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return used


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at or above `share` of the values (over 20
    values the p95 is the 19th, not the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def children_cpu_seconds() -> float:
    """CPU time (user + system) of this process's children that have ended and been waited for: a
    program run to its end (kubectl) is gone from /proc by the time cpu_seconds_by_program looks."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def peak_rss_mb(processes: list[subprocess.Popen]) -> float:
    """The highest peak resident set size (VmHWM) of any one process in these processes' trees."""
    peak = 0
    for process in processes:
        for pid in process_tree(process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak / 1024


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


class Stack:
    def __init__(self, web_workers: int = 3, celery_workers: int = 1, celery_concurrency: int = 2, node: bool = False):
        self.web_workers, self.celery_workers, self.celery_concurrency = web_workers, celery_workers, celery_concurrency
        self.with_node = node  # the local node runs pods (as root); without it only the control plane runs
        self.dir = Path(tempfile.mkdtemp(prefix="kube-console-bench-"))
        self.dir.chmod(0o755)  # PostgreSQL runs as the postgres account when this runs as root
        self.processes: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}
        self.url = ""
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.kubectl = ""
        self.cluster_seconds = 0.0  # how long the local cluster took to start
        self.node_seconds = 0.0  # of which the node, from its start to Ready
        self.node: dict[str, str] = {}

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self, message: str) -> None:
        print(f"==> {message}", file=sys.stderr, flush=True)

    def spawn(self, name: str, command: list, **kwargs) -> subprocess.Popen:
        out = (self.dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        self.processes.append(process)
        return process

    def start(self) -> None:
        self.log(f"starting the control plane, Redis and PostgreSQL in {self.dir}")
        # The console's benchmarks measure the console and the API server; a node running pods would
        # only take CPU from both on this 2-core machine, so the control plane runs alone unless asked.
        began = time.monotonic()
        started = subprocess.run(
            [ROOT / "scripts/controlplane/start.sh", self.dir / "controlplane"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "KUBE_CONSOLE_NODE": "1" if self.with_node else "0"},
        )
        self.cluster_seconds = time.monotonic() - began
        if self.with_node:
            node_env = (self.dir / "controlplane" / "node.env").read_text()
            self.node = dict(line.split("=", 1) for line in node_env.splitlines())
            self.node_seconds = float(re.search(r"Ready, ([0-9.]+) s after", started.stderr).group(1))
        kubeconfig = started.stdout.strip().splitlines()[-1]
        binaries = subprocess.run(
            [ROOT / "scripts/controlplane/build.sh"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.kubectl = str(Path(binaries) / "kubectl")
        redis_port = free_port()
        self.spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""])
        database_url = subprocess.run(
            [ROOT / "scripts/postgres.sh", "start", self.dir / "postgres", str(free_port())],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "KUBECONFIG": kubeconfig,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_DEBUG": "false",  # as deployed: no query log, no debug pages
            "CONSOLE_SERVER_TIMING": "true",  # answers carry their server time and query count
        }
        subprocess.run(
            [VENV_BIN / "python", "manage.py", "migrate", "--noinput"],
            env=self.env,
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        for index in range(self.celery_workers):
            self.start_worker(index)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log(f"starting gunicorn ({self.web_workers} workers) at {self.url}")
        self.web = self.spawn(
            "gunicorn",
            [
                VENV_BIN / "gunicorn",
                "console.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(self.web_workers),
                "--timeout",
                "60",
                "--max-requests",
                "0",
            ],
            env=self.env,
        )
        wait_until(self._web_answers, 60, "gunicorn")

    def start_worker(self, index: int) -> subprocess.Popen:
        command = [
            VENV_BIN / "celery",
            "-A",
            "console",
            "worker",
            "--loglevel",
            "WARNING",
            "--concurrency",
            str(self.celery_concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-{index}@%h",
        ]
        worker = self.spawn(f"worker-{index}", command, env=self.env)
        self.workers.append(worker)
        return worker

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/login/", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
        subprocess.run([ROOT / "scripts/postgres.sh", "stop", self.dir / "postgres"], capture_output=True)
        subprocess.run([ROOT / "scripts/controlplane/stop.sh", self.dir / "controlplane"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
