"""Session engine: Django's database sessions, read with a prepared query.

Each request reads its session once. In the database (already connected: CONN_MAX_AGE) the read
takes ~30 µs on SQLite; through the ORM it costs ~200 µs of query building, and a Redis
round trip in front of it (the cached_db engine) cost a fifth of a counter request's server
time on a 2-core machine, context switches included (bench/counter.py).
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from .fastload import Prepared

SESSION = Prepared(
    lambda column, tables, columns: (
        f"SELECT {columns[0]} FROM {tables[0]} t0 "
        f"WHERE t0.{column(Session, 'session_key')} = %s "
        f"AND t0.{column(Session, 'expire_date')} > %s"
    ),
    Session,
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        using = router.db_for_read(Session)
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        found = SESSION.first([self.session_key, now], using=using)
        if found is None:
            self._session_key = None  # as Django's engine: unknown or expired, start afresh
            return None
        return found[0]
