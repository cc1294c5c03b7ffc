import pytest
from django.db import connection, transaction

from core import bulk


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_lazy_commit_is_lazy_for_its_own_transaction_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite in WAL mode with synchronous=NORMAL never waits for the disk")
    with bulk.atomic_lazy_commit():
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"

    # Inside another transaction, the outer one decides: its other writes (a refund, say)
    # must not lose their durability.
    with transaction.atomic():
        with bulk.atomic_lazy_commit():
            assert synchronous_commit() == "on"
