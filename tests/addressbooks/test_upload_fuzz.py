"""A bounded fuzz of the two upload pages (address book import, recipient list): a few hundred
nasty files from a fixed seed go through the real views, then the import task's body.

Each must end as a page with a form error, or an import that is done or failed with a file
error (never "internal"), with exactly its counted contacts in the book (none on failure);
never a server error; and the web request's Python allocations stay under a bound."""

import codecs
import functools
import os
import random
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from addressbooks import parsers, services
from addressbooks.models import Contact, ContactImport, RecipientList
from tests.addressbooks import hostile
from tests.addressbooks.factories import BookFactory

pytestmark = pytest.mark.django_db

# CI runs one seed; FUZZ_SEED=<n> FUZZ_FILES=<n> explore others locally.
SEED = int(os.environ.get("FUZZ_SEED", "1717"))
FILES = int(os.environ.get("FUZZ_FILES", "320"))
# Allocations of one upload request (the multipart body is in memory in the test client, so
# the bound covers twice the largest file); a zip bomb opened in the request took ~1 GB.
PEAK_BOUND = 24 * 1024 * 1024
NUMBERS = ["+33612345678", "0612345679", "33 6 12 34 56 70", "+32470123456", "bad", "", "0033"]
TITLES = ["number", "surname", "name", "group", "homeMobile", "workPhone", "Prénom", "mobile",
          "x", "", "\ufeffnumber", '"number"', "NUMBER "]  # fmt: skip
FUNNY = ["é", "\u00a0", "\u200b", "😀", "\r", '"', "'", "=cmd|' /C calc'!A0", "\t", ";", ",",
         "\\", "\x01", "\x7f", "\u2028", "ﬁ", "\ud7ff"]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(FUNNY + list("abcXYZ 0123456789+")) for _ in range(rng.randint(0, 30)))


def _cell(rng: random.Random) -> str:
    """Text openpyxl agrees to write (no C0 control characters)."""
    return "".join(c for c in _text(rng) if c >= " " or c in "\t\r\n")


def _csv(rng: random.Random, rows: int | None = None) -> bytes:
    sep = rng.choice([";", ",", "\t", "|"])
    header = rng.sample(TITLES, rng.randint(1, 5))
    if rng.random() < 0.8 and "number" not in header:
        header[0] = "number"
    lines = [sep.join(header)]
    for _ in range(rows if rows is not None else rng.randint(0, 40)):
        cells = [rng.choice(NUMBERS) if rng.random() < 0.6 else _text(rng) for _ in header]
        lines.append(sep.join(cells))
    end = rng.choice(["\n", "\r\n", "\r"])
    encoding = rng.choice(["utf-8", "utf-8-sig", "cp1252", "latin-1"])
    return end.join(lines).encode(encoding, errors="replace")


@functools.lru_cache
def _bomb(kind: str, size: int) -> bytes:
    if kind == "sheet":
        return hostile.bomb_sheet(size)
    if kind == "strings":
        return hostile.bomb_shared_strings(size)
    return hostile.many_members(size)


def _nasty(rng: random.Random, n: int) -> tuple[bytes, str]:
    kind = n % 16
    name = rng.choice(["c.csv", "c.txt", "c.CSV", "c.xlsx", "c.xls"])
    if kind == 0:  # random bytes
        return rng.randbytes(rng.randint(0, 4000)), name
    if kind == 1:  # NULs in a valid file, before or after the sniffed start, with or without BOM
        content = bytearray(_csv(rng, rows=5))
        if rng.random() < 0.5:  # past the first 64 KiB, in few lines (each costs a lookup)
            content += b"\n+33612345678;" + b"a" * 70_000 + b"\n+33612345679\n"
        for _ in range(rng.randint(1, 3)):
            content.insert(rng.randrange(len(content) + 1), 0)
        bom = codecs.BOM_UTF8 if rng.random() < 0.5 else b""
        return bom + bytes(content), "c.csv"
    if kind == 2:  # an over-long field: header, data, or a line of separators
        long = b"x" * rng.choice([100_001, 131_073, 300_000])
        where = rng.randrange(3)
        if where == 0:
            return b"number;" + long + b"\n+33612345678;a\n", "c.csv"
        if where == 1:
            return b"number;name\n+33612345678;" + long + b"\n", "c.csv"
        return b"number\n+33612345678\n" + b";" * 600_000 + b"\n", "c.csv"
    if kind == 3:  # wrong encodings
        text = _csv(rng).decode("latin-1")
        codec = rng.choice(["utf-16", "utf-16-le", "utf-32", "shift_jis", "cp1252", "utf-7"])
        return text.encode(codec, errors="replace"), "c.csv"
    if kind == 4:  # unclosed quotes
        content = bytearray(_csv(rng, rows=rng.randint(1, 30)))
        content.insert(rng.randrange(len(content) + 1), ord('"'))
        return bytes(content), "c.csv"
    if kind == 5:  # a truncated workbook
        content = hostile.xlsx([["number", "name"]] + [[rng.choice(NUMBERS), _cell(rng)]
                                                       for _ in range(rng.randint(0, 30))])  # fmt: skip
        return content[: rng.randrange(len(content))], "c.xlsx"
    if kind == 6:  # zip bombs of several shapes
        shape = rng.choice(["sheet", "sheet", "strings", "members"])
        size = {"sheet": rng.choice([16, 100]) * 1024 * 1024,
                "strings": 70 * 1024 * 1024, "members": 10_001}[shape]  # fmt: skip
        return _bomb(shape, size), "c.xlsx"
    if kind == 7:  # a workbook with bytes flipped
        content = bytearray(hostile.xlsx([["number"], [rng.choice(NUMBERS)]]))
        for _ in range(rng.randint(1, 20)):
            content[rng.randrange(len(content))] = rng.randrange(256)
        return bytes(content), "c.xlsx"
    if kind == 8:  # a workbook whose directory lies about sizes
        return hostile.lying_sizes(hostile.xlsx([["number"], ["+33612345678"]])), "c.xlsx"
    if kind == 9:  # an OLE2 header over garbage
        return parsers.XLS_MAGIC + rng.randbytes(rng.randint(0, 3000)), "c.xls"
    if kind == 10:  # a workbook of odd cells
        rows = [[rng.choice(TITLES) for _ in range(3)]] + [
            [rng.choice([rng.choice(NUMBERS), _cell(rng), rng.random() * 1e12, None,
                         "y" * rng.choice([10, 40_000]), "=1/0"])
             for _ in range(3)]
            for _ in range(rng.randint(0, 20))
        ]  # fmt: skip
        rows[0][0] = "number"
        return hostile.xlsx(rows), "c.xlsx"
    if kind == 11:  # a valid CSV under a wrong name, or with random bytes spliced in
        content = bytearray(_csv(rng, rows=rng.randint(1, 50)))
        at = rng.randrange(len(content) + 1)
        content[at:at] = rng.randbytes(rng.randint(1, 40)).replace(b"\x00", b"")
        return bytes(content), name
    if kind == 12:  # only blank lines, a BOM, separators
        return rng.choice([b"", b"\xef\xbb\xbf", b"\n\n\r\n", b";;;\n;;;\n", b"number\n\n\n",
                           b'"', b"\xef\xbb\xbf\x00"]), "c.csv"  # fmt: skip
    if kind == 13:  # a header of many columns, many rows of short lines
        header = ";".join(["number"] + [f"c{i}" for i in range(rng.randint(1, 2000))])
        return (header + "\n" + "+33612345678\n" * rng.randint(1, 500)).encode(), "c.csv"
    if kind == 14:  # a random ordinary file: most should import
        return _csv(rng), "c.csv"
    return rng.randbytes(8) + _csv(rng), name  # 15: binary garbage before a valid file


def _post(client, url, data):
    tracemalloc.start()
    try:
        response = client.post(url, data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


def test_nasty_files_never_break_the_upload_pages_or_half_import(owner_client, account, queued):
    rng = random.Random(SEED)
    book = BookFactory(account=account)
    import_url = reverse("addressbooks:import", args=[account.name, book.pk])
    lists_url = reverse("addressbooks:lists", args=[account.name])
    outcomes: dict[str, int] = {}
    worst = 0

    for n in range(FILES):
        content, name = _nasty(rng, n)
        before = Contact.objects.filter(book=book).count()
        response, peak = _post(
            owner_client, import_url, {"file": SimpleUploadedFile(name, content)}
        )
        worst = max(worst, peak)
        assert response.status_code in (200, 302), (n, response.status_code)
        assert peak < PEAK_BOUND, (n, name, peak)
        imp = ContactImport.objects.filter(book=book).order_by("-pk").first()
        if response.status_code == 302:
            imp = services.contact_import_run(imp.pk)
            imp.refresh_from_db()
            assert imp.status in (ContactImport.Status.DONE, ContactImport.Status.ERROR), n
            assert imp.failure != services.INTERNAL, (n, name)
            added = Contact.objects.filter(book=book).count() - before
            if imp.status == ContactImport.Status.ERROR:
                assert imp.failure in services.FILE_ERRORS, (n, imp.failure)
                assert added == 0, (n, "half imported")
            else:
                assert added == imp.imported, n
            outcome = f"import:{imp.failure or 'done'}"
        else:
            assert response.context["form"].errors, n
            assert Contact.objects.filter(book=book).count() == before
            outcome = "refused"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

        list_name = name if rng.random() < 0.3 else "l.csv"
        response, peak = _post(owner_client, lists_url, {
            "description": f"fuzz {n}", "file": SimpleUploadedFile(list_name, content),
        })  # fmt: skip
        assert response.status_code in (200, 302, 400), (n, response.status_code)
        assert peak < PEAK_BOUND, (n, "list", peak)
        if response.status_code == 302:
            created = RecipientList.objects.get(account=account)
            assert created.records == created.numbers.count()
            created.delete()
        else:
            assert not RecipientList.objects.filter(account=account).exists()

    print(f"\n{FILES} files: {sorted(outcomes.items())}; worst request peak {worst / 2**20:.1f} MiB")
    # The generator reaches each road: refusals in the form, imports done, imports failed.
    assert outcomes.get("refused", 0) > 30
    assert outcomes.get("import:done", 0) > 10
    assert sum(v for k, v in outcomes.items() if k.startswith("import:") and k != "import:done") > 30
