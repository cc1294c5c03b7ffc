"""Authentication backend: Django's ModelBackend with the per-request user lookup prepared once."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router

from .fastload import Prepared

User = get_user_model()
USER = Prepared(
    lambda column, tables, columns: (
        f"SELECT {columns[0]} FROM {tables[0]} t0 WHERE t0.{column(User, User._meta.pk.name)} = %s"
    ),
    User,
)


class AccountsBackend(ModelBackend):
    """Logs in by e-mail and password exactly like ModelBackend; loading the session's user on
    each request skips the ORM's query building (see accounts.fastload)."""

    def get_user(self, user_id):
        found = USER.first([user_id], using=router.db_for_read(User))
        if found is None:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None
