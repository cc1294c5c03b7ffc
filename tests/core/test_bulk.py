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


@pytest.mark.django_db
def test_binary_insert_stores_what_the_text_insert_stores():
    """bulk.insert(binary=True): PostgreSQL's binary COPY (elsewhere the same statements), for
    varchar, text, a foreign key and a datetime with its time zone."""
    from django.utils import timezone

    from addressbooks.models import Contact
    from tests.addressbooks.factories import BookFactory

    book = BookFactory()
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    fields = ("book", "surname", "name", "group", "home_mobile", "work_mobile", "home_phone",
              "work_phone", "primary_number", "search", "created_at")  # fmt: skip
    for binary, surname in ((False, "Texte"), (True, "Binaire")):
        rows = [(book.pk, surname, 'Zoé\t\\ "x"\n', "", "+33612345678", "", "", "",
                 "+33612345678", "z", at)]  # fmt: skip
        bulk.insert(Contact, fields=fields, rows=rows, binary=binary)
    stored = {
        c.surname: (c.book_id, c.name, c.search, c.home_mobile, c.created_at)
        for c in Contact.objects.filter(book=book)
    }
    assert stored["Texte"] == stored["Binaire"]
    assert stored["Binaire"][1] == 'Zoé\t\\ "x"\n'
