import fcntl
import os
import threading

import pytest
from django.db import connection, connections, transaction

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


@pytest.mark.django_db(transaction=True)
def test_sqlite_dispatch_writers_queue_on_a_lock_beside_the_database():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL has row locks")
    holder = os.open(f"{connection.settings_dict['NAME']}.writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another dispatcher is writing
    entered = threading.Event()

    def writer():
        try:
            with bulk.atomic_write():
                entered.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert not entered.wait(0.5)  # waits its turn
    finally:
        os.close(holder)  # the other one is done
    thread.join(10)
    assert entered.is_set()
