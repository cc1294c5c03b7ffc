"""The contacts file reader, on real files written to disk (no Django)."""

import codecs
import tracemalloc

import pytest

from addressbooks import parsers
from addressbooks.parsers import ContactFile, ImportFileError

HEADER = "surname;name;group;homePhone;homeMobile;workPhone;workMobile"


def write(tmp_path, content: bytes, name="contacts.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def read_all(path):
    with open(path, "rb") as binary:
        contacts = ContactFile(binary)
        return contacts, list(contacts)


def test_utf8_with_bom_and_crlf(tmp_path):
    text = HEADER + "\r\nDurand;Hélène;Café Ça;;+33612345678;;\r\n"
    path = write(tmp_path, codecs.BOM_UTF8 + text.encode())

    contacts, rows = read_all(path)

    assert contacts.encoding == "utf-8-sig"
    assert rows == [
        (2, {"surname": "Durand", "name": "Hélène", "group": "Café Ça", "home_phone": "",
             "home_mobile": "+33612345678", "work_phone": "", "work_mobile": ""}),
    ]  # fmt: skip


def test_utf8_without_bom(tmp_path):
    path = write(tmp_path, (HEADER + "\nLefèvre;Zoé;;;0612345678;;\n").encode())

    contacts, rows = read_all(path)

    assert contacts.encoding == "utf-8"
    assert rows[0][1]["surname"] == "Lefèvre"


def test_windows_1252_accents_are_kept(tmp_path):
    text = "Nom;Prénom;Société;Mobile\nBéranger;François;Crème & Cœur;0612345678\n"
    path = write(tmp_path, text.encode("cp1252"))

    contacts, rows = read_all(path)

    assert contacts.encoding == "cp1252"
    assert rows == [
        (2, {"surname": "Béranger", "name": "François", "group": "Crème & Cœur",
             "home_mobile": "0612345678"}),
    ]  # fmt: skip


def test_cp1252_detected_even_far_into_the_file(tmp_path):
    lines = (
        [HEADER]
        + [f"Nom{i};;;;+3361{i:07d};;" for i in range(20_000)]
        + ["Hélène;;;;+33699999999;;"]
    )
    path = write(tmp_path, "\n".join(lines).encode("cp1252"))

    contacts, rows = read_all(path)

    assert contacts.encoding == "cp1252"
    assert rows[-1][1]["surname"] == "Hélène"


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_separators(tmp_path, sep):
    text = (
        sep.join(["surname", "name", "homeMobile"])
        + "\n"
        + sep.join(["Martin", "Léa", "+33612345678"])
    )
    path = write(tmp_path, text.encode())

    contacts, rows = read_all(path)

    assert contacts.delimiter == sep
    assert rows == [(2, {"surname": "Martin", "name": "Léa", "home_mobile": "+33612345678"})]


def test_quoted_separators_and_newlines(tmp_path):
    text = (
        "surname,name,group,workMobile\n"
        '"Dupont, fils","Jean ""JJ""","Société\nsur deux lignes",+33612345678\n'
        "Martin,Léa,,+33612345679\n"
    )
    path = write(tmp_path, text.encode())

    _, rows = read_all(path)

    assert rows[0] == (2, {"surname": "Dupont, fils", "name": 'Jean "JJ"',
                           "group": "Société\nsur deux lignes", "work_mobile": "+33612345678"})  # fmt: skip
    assert rows[1][0] == 4  # the quoted newline took line 3


def test_case_insensitive_headers_number_column_and_unknown_columns(tmp_path):
    path = write(tmp_path, b"  NUMBER ;Comment\n+33612345678;hello\n")

    contacts, rows = read_all(path)

    assert contacts.columns == [(0, "home_mobile")]
    assert rows == [(2, {"home_mobile": "+33612345678"})]


def test_txt_file_number_then_one_per_line_blank_lines_ignored(tmp_path):
    path = write(tmp_path, b"number\n+33612345678\n\n   \n0612345679\n;;\n", name="list.txt")

    _, rows = read_all(path)

    assert rows == [(2, {"home_mobile": "+33612345678"}), (5, {"home_mobile": "0612345679"})]


def test_french_titles(tmp_path):
    path = write(
        tmp_path,
        "Nom;Prénom;Société;Fixe;Mobile;Fixe professionnel;Mobile professionnel\n".encode(),
    )
    with open(path, "rb") as binary:
        contacts = ContactFile(binary)
    assert [f for _, f in contacts.columns] == list(parsers.FIELDS)


def test_header_only(tmp_path):
    path = write(tmp_path, (HEADER + "\r\n\r\n").encode())

    with pytest.raises(ImportFileError) as error:
        read_all(path)

    assert error.value.code == parsers.NO_ROWS


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", codecs.BOM_UTF8])
def test_empty_file(tmp_path, content):
    with pytest.raises(ImportFileError) as error:
        read_all(write(tmp_path, content))

    assert error.value.code == parsers.EMPTY


def test_binary_file_renamed_csv(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4

    with pytest.raises(ImportFileError) as error:
        read_all(write(tmp_path, png, name="photo.csv"))

    assert error.value.code == parsers.NOT_TEXT


def test_no_number_column(tmp_path):
    with pytest.raises(ImportFileError) as error:
        read_all(write(tmp_path, b"surname;name;email\nDupont;Jean;j@example.com\n"))

    assert error.value.code == parsers.NO_NUMBER_COLUMN


def test_a_5000_character_line(tmp_path):
    long_name = "é" * 5000
    path = write(tmp_path, f"surname;homeMobile\n{long_name};+33612345678\n".encode())

    _, rows = read_all(path)

    assert rows[0][1]["surname"] == long_name


def test_a_cell_beyond_the_field_limit_is_a_bad_line(tmp_path):
    path = write(tmp_path, b"surname;homeMobile\nA;+33612345678\n" + b"x" * 200_000 + b";1\n")

    with pytest.raises(ImportFileError) as error:
        read_all(path)

    assert (error.value.code, error.value.line) == (parsers.BAD_LINE, 3)


def test_streaming_in_constant_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as out:
        out.write(HEADER + "\n")
        for i in range(200_000):
            out.write(f"Nom{i};Prénom;Société;;+3361{i:07d};;\n")
    tracemalloc.start()
    count = 0
    with open(path, "rb") as binary:
        for _ in ContactFile(binary):
            count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert count == 200_000
    assert peak < 5 * 1024 * 1024  # the file is ~9 MB


def test_check_rewinds_for_the_task(tmp_path):
    path = write(tmp_path, (HEADER + "\nA;B;;;+33612345678;;\n").encode())
    with open(path, "rb") as binary:
        parsers.check(binary)
        assert binary.tell() == 0
        assert not binary.closed
