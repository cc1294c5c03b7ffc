"""Text folded for searching: what a person types matches what is stored whatever the case,
the accents and the punctuation.

Plain module (no Django): the address books store each contact's folded names in one column
and fold the query the same way, so that a substring test on that column is the whole search.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters that carry no combining accent in Unicode, so NFKD leaves them as they are.
_LETTERS = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
                          "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"})  # fmt: skip
# Every ASCII character that is not a letter or a digit becomes a space.
_ASCII_PUNCTUATION = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def fold(text: str) -> str:
    """Lower case, accents and ligatures removed, any run of characters that are neither
    letters nor digits made one space: "  Jean-Pierre L'Hôte " → "jean pierre l hote".

    Character by character (ß → ss aside), so a substring of a text folds to a substring of the
    folded text: what matched before folding still matches after."""
    if text.isascii():
        lowered = text.lower()
        if lowered.isalnum():  # most names: one word (the import folds a million of them)
            return lowered
        return " ".join(lowered.translate(_ASCII_PUNCTUATION).split())
    return _fold_unicode(text)


@lru_cache(maxsize=65_536)  # names with accents repeat: first names, companies
def _fold_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def words(query: str) -> list[str]:
    """The folded words of a query, each once, in order."""
    return list(dict.fromkeys(fold(query).split()))
