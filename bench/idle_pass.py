"""One periodic pass in a process of its own, as a Celery worker runs it from the schedule: prints
its wall time, the API requests it made by verb, what it queued and the process's peak RSS, as JSON.
bench/perf.py runs it with the benchmark stack's environment, so that the pass's memory is measured
apart from the benchmark's own."""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss, which Linux carries over from the
    parent across exec: it would report the benchmark's own size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    import django

    django.setup()
    from console import cluster
    from console.celery import app
    from console.reconcile import resync

    app.loader.import_default_modules()  # every app's reconcilers, as in a worker
    cluster.REQUESTS.clear()
    started = time.monotonic()
    queued = resync()
    seconds = time.monotonic() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "requests": dict(cluster.REQUESTS),
                "queued": queued,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
