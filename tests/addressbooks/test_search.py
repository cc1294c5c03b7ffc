"""Searching a book by name: the indexed page finds exactly what the plain filter finds (on
SQLite through FTS5, on PostgreSQL through pg_trgm), and the index follows every write."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from addressbooks import search, services
from addressbooks.models import Contact, ContactImport
from core.text import fold, words
from tests.addressbooks.factories import BookFactory, ContactFactory

pytestmark = pytest.mark.django_db

# (surname, first name, company): accents, case, hyphens, apostrophes, ligatures, digits.
PEOPLE = [
    ("Dupont", "Jean-Pierre", "Acme"),
    ("DUPONT", "Marie", ""),
    ("Dupontel", "Albert", ""),
    ("Lefèvre", "Élodie", "Boulangerie Lefèvre"),
    ("O'Brien", "Seán", ""),
    ("d'Artagnan", "Charles", "Mousquetaires du Roi"),
    ("Müller", "Jürgen", "Straße GmbH"),
    ("Nguyễn", "Văn Anh", ""),
    ("Cœurdelion", "Richard", ""),
    ("", "", "Sans Nom SARL"),
    ("Martin", "Anne-Sophie", "Société Générale"),
    ("Martinez", "José", ""),
    ("Saint-Exupéry", "Antoine", "Aéropostale"),
    ("Nom123", "Prénom45", "Société 7"),
    ("l'Hôte", "Zoé", "50% off_sale*"),
]
QUERIES = [
    "dupont", "DUPONT", "Dupont Jean", "jean dupont", "jean-pierre", "Pierre", "upon",
    "lefevre", "LEFÈVRE", "élodie", "elo", "o'brien", "obrien", "brien", "sean", "d'artagnan",
    "artagnan", "muller", "MÜLLER", "strasse", "straße", "nguyen", "van anh", "coeur", "cœur",
    "sarl", "martin", "tin", "anne sophie", "anne-sophie martin", "zoé", "zoe", "durand1",
    "durand11", "Durand 7", "z", "e", "ar", "saint exupery", "exup", "aéro", "société",
    "societe generale", "nom123", "prenom4", "nom 7", "50%", "off_sale*", "%", "_", "*", "xyz",
    "jean zzz", "l'hôte", "hote",
]  # fmt: skip


@pytest.fixture
def book(account):
    book = BookFactory(account=account, name="Clients")
    for i, (surname, name, group) in enumerate(PEOPLE):
        ContactFactory(book=book, surname=surname, name=name, group=group,
                       home_mobile=f"+336100000{i:02d}")  # fmt: skip
    # Enough of one name for several pages (50 a page), between the others' ids.
    Contact.objects.bulk_create(
        Contact(book=book, surname=f"Durand{i}", name="Zoé", home_mobile=f"+33620000{i:03d}",
                primary_number=f"+33620000{i:03d}")
        for i in range(130)
    )  # fmt: skip
    ContactFactory(book=book, surname="Dupond", name="Jean")
    return book


@pytest.fixture
def others(book):
    """The same names in another book of the account and in another account's book."""
    for other in (BookFactory(account=book.account, name="Other"), BookFactory()):
        for surname, name, group in PEOPLE:
            ContactFactory(book=other, surname=surname, name=name, group=group)


def every_page(book, query) -> list[int]:
    """The ids book_page gives for a query, following its next pages."""
    ids, after = [], 0
    while True:
        contacts, _, has_next = services.book_page(book, query=query, after=after)
        ids += [c.pk for c in contacts]
        if not has_next:
            return ids
        after = contacts[-1].pk


def plain(book, query) -> list[int]:
    region = book.account.default_region
    contacts = Contact.objects.filter(book=book).filter(services.search_filter(query, region))
    return list(contacts.order_by("pk").values_list("pk", flat=True))


def expected(book, query) -> list[int]:
    """What a person expects, from the names as typed: every word of the query somewhere in
    the surname, first name or company, whatever the case, accents and punctuation."""
    return [
        c.pk
        for c in Contact.objects.filter(book=book).order_by("pk")
        if all(w in fold(f"{c.surname} {c.name} {c.group}") for w in words(query)) and words(query)
    ]


@pytest.mark.parametrize("query", QUERIES)
def test_the_index_finds_what_the_filter_finds(book, others, query):
    found = every_page(book, query)

    assert found == plain(book, query) == expected(book, query)
    assert len(set(found)) == len(found)


def test_what_a_person_types_finds_them(book):
    def names(query):
        return sorted(str(c) for c in Contact.objects.filter(pk__in=every_page(book, query)))

    assert names("dupont") == ["Albert Dupontel", "Jean-Pierre Dupont", "Marie DUPONT"]
    assert names("jean dupont") == ["Jean-Pierre Dupont"]  # words in any order
    assert names("ELODIE lefevre") == ["Élodie Lefèvre"]
    assert names("o'brien") == names("O BRIEN") == ["Seán O'Brien"]
    assert names("straße") == names("strasse") == ["Jürgen Müller"]
    assert names("coeur") == ["Richard Cœurdelion"]
    assert names("sarl") == ["+33610000009"]  # no names: shown by its number
    assert len(names("durand")) == 130
    assert names("-") == names("zzz") == []


def test_pages_go_back_as_they_went(book):
    first, has_previous, has_next = services.book_page(book, query="zoe")
    second, _, _ = services.book_page(book, query="zoe", after=first[-1].pk)
    back, back_has_previous, back_has_next = services.book_page(
        book, query="zoe", before=second[0].pk
    )

    assert (len(first), has_previous, has_next) == (50, False, True)
    assert [c.pk for c in back] == [c.pk for c in first]
    assert (back_has_previous, back_has_next) == (False, True)
    assert all(c.name == "Zoé" for c in first + second)


def test_numbers_are_searched_by_their_digits(book):
    ids = every_page(book, "06 10 00 00 04")  # a whole number: the contact whose number it is
    assert [c.surname for c in Contact.objects.filter(pk__in=ids)] == ["O'Brien"]
    assert len(every_page(book, "062000012")) == 10  # part of one: +33620000120 to 129
    assert every_page(book, "0620000") == plain(book, "0620000")
    # A query with letters is a name: its digits are not looked for in the numbers.
    assert every_page(book, "Durand 100") == plain(book, "Durand 100")
    assert [c.surname for c in Contact.objects.filter(pk__in=every_page(book, "nom123"))] == [
        "Nom123"
    ]


def test_sqlite_asks_the_fts_table(book):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's index")
    with CaptureQueriesContext(connection) as queries:
        contacts, _, _ = services.book_page(book, query="Lefèvre")
    assert [c.surname for c in contacts] == ["Lefèvre"]
    assert any(search.FTS_TABLE in q["sql"] for q in queries.captured_queries)


def test_postgresql_has_a_trigram_index_the_filter_can_use(book):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's index")
    contacts = Contact.objects.filter(search.name_filter(["lefevre"]))
    sql, params = contacts.query.sql_with_params()
    with connection.cursor() as cursor:
        # Too few rows for the planner to want an index: take the other ways away.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"Bitmap Index Scan on {search.PG_INDEX}" in plan


def integrity_check():
    """SQLite: FTS5 compares its index with the contact rows (raises when they differ)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}, rank) "
                "VALUES ('integrity-check', 1)"
            )


def test_the_index_follows_edits_and_deletes(book):
    contact = Contact.objects.get(book=book, surname="Lefèvre")
    contact.surname = "Leroy-Beaulieu"
    services.contact_save(contact)
    assert every_page(book, "lefevre") == [contact.pk]  # still in the company's name
    contact.group = ""
    services.contact_save(contact)

    assert every_page(book, "lefevre") == []
    assert every_page(book, "beaulieu") == [contact.pk]

    dupont = Contact.objects.get(book=book, surname="DUPONT")
    services.contacts_delete(book, [dupont.pk])
    assert [c.surname for c in Contact.objects.filter(pk__in=every_page(book, "dupont"))] == [
        "Dupont",
        "Dupontel",
    ]
    integrity_check()


def test_deleting_a_book_empties_its_part_of_the_index(book, others):
    services.book_delete(book)

    integrity_check()
    other = Contact.objects.filter(search__contains="lefevre").first().book
    assert len(every_page(other, "lefevre")) == 1
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE} WHERE search GLOB '*durand*'")
            assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_the_import_fills_the_index(account):
    book = BookFactory(account=account)
    lines = ["surname;name;group;homeMobile"] + [
        f"Lefèvre-{i};Hélène;Café de l'Est;+3361{i:07d}" for i in range(300)
    ]
    imp = ContactImport(book=book, original_name="c.csv")
    imp.file.save("c.csv", ContentFile("\n".join(lines).encode()), save=False)
    imp.save()

    services.contact_import_run(imp.pk)

    assert (
        Contact.objects.get(book=book, surname="Lefèvre-7").search
        == "lefevre 7 helene cafe de l est"
    )
    assert len(every_page(book, "LEFEVRE helene")) == 300
    assert every_page(book, "lefevre 12") == plain(book, "lefevre 12")
    assert len(every_page(book, "lefevre 12")) == 13  # 12, 112, 212, 120 to 129
    integrity_check()


@pytest.mark.django_db(transaction=True)
def test_an_import_next_to_other_contacts_leaves_the_index_whole(account):
    """SQLite indexes an import's contacts in one statement after them (its insert trigger
    dropped meanwhile): the other books' entries stay, and later saves are indexed again."""
    other = BookFactory(account=account, name="Other")
    ContactFactory(book=other, surname="Lefèvre")
    book = BookFactory(account=account)
    lines = ["surname;name;homeMobile"] + [f"Lefèvre-{i};Zoé;+3361{i:07d}" for i in range(20)]
    imp = ContactImport(book=book, original_name="c.csv")
    imp.file.save("c.csv", ContentFile("\n".join(lines).encode()), save=False)
    imp.save()

    services.contact_import_run(imp.pk)

    assert len(every_page(book, "lefevre zoe")) == 20
    assert len(every_page(other, "lefevre")) == 1
    later = ContactFactory(book=book, surname="Lefèvre-après")
    assert later.pk in every_page(book, "lefevre apres")
    integrity_check()
    if connection.vendor == "sqlite":  # the larger buffer was for the import's statement only
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT v FROM {search.FTS_TABLE}_config WHERE k = 'hashsize'")
            assert cursor.fetchall() in ([], [(search.FTS_HASHSIZE,)])


def test_a_bulk_insert_rolled_back_keeps_the_insert_trigger(book):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        with search.contacts_inserted_in_bulk():
            ContactFactory(book=book, surname="Rollback")
            1 / 0  # noqa: B018 - the import failing midway
    added = ContactFactory(book=book, surname="Lemaire")
    assert every_page(book, "lemaire") == [added.pk]
    integrity_check()


def test_bulk_writes_keep_the_search_column(book):
    contacts = list(Contact.objects.filter(book=book, surname__startswith="Durand")[:3])
    for contact in contacts:
        contact.surname = "Éric-" + contact.surname
    Contact.objects.bulk_update(contacts, ["surname"])

    assert sorted(every_page(book, "eric")) == sorted(c.pk for c in contacts)
    integrity_check()


def test_sqlite_triggers_come_back_after_a_table_rebuild(book):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's triggers")
    lefevre = Contact.objects.get(book=book, surname="Lefèvre")
    with connection.cursor() as cursor:
        # What Django's SQLite schema editor leaves after rebuilding the table to alter it.
        for event in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_{event}")
    Contact.objects.filter(pk=lefevre.pk).delete()  # the index does not know
    ContactFactory(book=book, surname="Lefebvre")

    search.repair_sqlite_index()

    integrity_check()
    assert [c.surname for c in Contact.objects.filter(pk__in=every_page(book, "lef"))] == [
        "Lefebvre"
    ]


def test_the_search_is_scoped_to_the_book_of_the_account(client, outsider, book, others):
    url = reverse("addressbooks:book", args=[book.account.name, book.pk])
    client.force_login(outsider)
    assert client.get(url, {"q": "dupont"}).status_code == 404


def test_the_page_shows_the_matches(owner_client, book, others):
    url = reverse("addressbooks:book", args=[book.account.name, book.pk])

    response = owner_client.get(url, {"q": "LEFÈVRE"})

    assert response.status_code == 200
    assert [c.surname for c in response.context["contacts"]] == ["Lefèvre"]
    assert "Élodie" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_postgresql_statistics_follow_a_big_import(account, monkeypatch):
    calls = []
    monkeypatch.setattr(search, "statistics_after_import", calls.append)
    imp = ContactImport(book=BookFactory(account=account), original_name="c.csv")
    imp.file.save("c.csv", ContentFile(b"number\n+33612345678\n+33612345679\n"), save=False)
    imp.save()

    services.contact_import_run(imp.pk)

    assert calls == [2]  # the contacts it added


def test_postgresql_analyses_when_an_import_adds_a_tenth_of_the_rows(book):
    with CaptureQueriesContext(connection) as queries:
        search.statistics_after_import(10**9)
        search.statistics_after_import(0)
    analyse = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]
    assert analyse == (
        ['ANALYZE "addressbooks_contact"'] if connection.vendor == "postgresql" else []
    )
