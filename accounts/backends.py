"""Authentication backend: Django's ModelBackend with the per-request user lookup prepared once."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .fastload import Prepared

USER = Prepared(
    lambda q, tables, columns: (
        f"SELECT {columns[0]} FROM {tables[0]} t0 "
        f"WHERE t0.{q(get_user_model()._meta.pk.column)} = %s"
    ),
    get_user_model(),
)


class AccountsBackend(ModelBackend):
    """Logs in by e-mail and password exactly like ModelBackend; loading the session's user on
    each request skips the ORM's query building (see accounts.fastload)."""

    def get_user(self, user_id):
        found = USER.first([user_id])
        if found is None:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
