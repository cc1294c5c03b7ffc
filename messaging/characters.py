"""Names of the characters that force Unicode, for the counter's tooltips, in the page's
language. Unicode's own names are English only: the usual culprits get a name of their own,
any other character the name of its kind (letter, emoji, space…) and its code point."""

import unicodedata

from django.utils.translation import gettext_lazy as _

NAMES = {
    "\u2018": _("left single quotation mark"),
    "\u2019": _("right single quotation mark (curly apostrophe)"),
    "\u201c": _("left double quotation mark"),
    "\u201d": _("right double quotation mark"),
    "\u00ab": _("left-pointing guillemet"),
    "\u00bb": _("right-pointing guillemet"),
    "\u2013": _("en dash"),
    "\u2014": _("em dash"),
    "\u2026": _("ellipsis"),
    "\u2022": _("bullet"),
    "\u00a0": _("non-breaking space"),
    "\u202f": _("narrow non-breaking space"),
    "\t": _("tab"),
    "\u200b": _("zero width space"),
    "\u200c": _("zero width non-joiner"),
    "\u200d": _("zero width joiner"),
    "\ufeff": _("byte order mark (invisible)"),
    "`": _("grave accent"),
    "\u00bd": _("fraction one half"),
    "\u0153": _("letter œ (ligature)"),
    "\u0152": _("letter Œ (ligature)"),
}

# By Unicode general category, first letter then the full category.
KINDS = {
    "Zs": _("space"),
    "Cf": _("invisible formatting character"),
    "Cc": _("control character"),
    "Pd": _("dash"),
    "Pi": _("quotation mark"),
    "Pf": _("quotation mark"),
    "Mn": _("accent (combining mark)"),
    "L": _("letter"),
    "N": _("number"),
    "P": _("punctuation mark"),
    "So": _("symbol or emoji"),
    "S": _("symbol"),
}


def describe(char: str) -> dict:
    """{char (empty for invisible ones), code "U+2019", name in the current language}."""
    code = f"U+{ord(char):04X}"
    category = unicodedata.category(char)
    name = NAMES.get(char) or KINDS.get(category) or KINDS.get(category[0]) or _("character")
    if char not in NAMES and category[0] == "L":
        name = _("letter %(char)s") % {"char": char}
    return {
        "char": char if char.isprintable() and not char.isspace() else "",
        "code": code,
        "name": f"{name} ({code})",
    }
