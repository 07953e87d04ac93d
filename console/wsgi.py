import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
application = get_wsgi_application()

# What start-up loads (Django, DRF, the kubernetes client's many model classes, every view) lives
# as long as the process. Load it now and move it out of the garbage collector's sight. Young
# objects are collected once a response has gone out, when 50,000 have piled up, rather than in the
# middle of a request: a list page of 50 routes paused for collections often enough to double its
# p95 (bench/perf.py). The collector's own trigger stays as a backstop for a request that makes
# far more.
get_resolver().url_patterns  # noqa: B018 - imports every view
gc.freeze()
gc.set_threshold(500_000, 20, 1000)
YOUNG_OBJECTS = 50_000


def collect_after_response(**_) -> None:
    if gc.get_count()[0] > YOUNG_OBJECTS:
        gc.collect(1)


request_finished.connect(collect_after_response, dispatch_uid="collect-after-response")
