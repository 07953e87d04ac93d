import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
application = get_wsgi_application()

# What start-up loads (Django, DRF, the kubernetes client's many model classes, every view) lives
# as long as the process. Load it now and move it out of the garbage collector's sight, and collect
# young objects every 50,000 allocations rather than 700: with the defaults, one list request in
# ten paused 100-200 ms for a collection (bench/perf.py shows the p95).
get_resolver().url_patterns  # noqa: B018 - imports every view
gc.freeze()
gc.set_threshold(50_000, 20, 1000)
