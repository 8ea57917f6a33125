"""The console's tests reuse the mobile tests' finished job (photos, parts, signature, rating, settlement)."""

from tests.mobile.conftest import on_site, stock
from tests.mobile.test_job_record import finished

__all__ = ["finished", "on_site", "stock"]
