"""The Celery worker's liveness probe: exits 0 while its heartbeat file is fresh, 1 when it is
missing or older than --max-age seconds (the worker's event loop has stopped)."""

import time

from django.core.management.base import BaseCommand, CommandError

from console.celery import HEARTBEAT_SECONDS, heartbeat_file


class Command(BaseCommand):
    help = "Exit 0 when the Celery worker's heartbeat is fresh, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=float, default=HEARTBEAT_SECONDS * 6)

    def handle(self, *args, max_age: float, **options):
        path = heartbeat_file()
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            raise CommandError(f"no heartbeat at {path}: the worker is not running") from None
        if age > max_age:
            raise CommandError(f"the worker's last heartbeat is {age:.0f} s old (at most {max_age:.0f} s allowed)")
        self.stdout.write(f"alive: last heartbeat {age:.1f} s ago")
