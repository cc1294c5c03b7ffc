"""The account navigation, grouped as in the OVHcloud manager's tabs: Accueil, a Messages menu,
a Contacts menu, Expéditeurs, Utilisateurs API and an Options menu.

Each page names its entry with the `tab` value of its template context; URL names are plain
strings, reversed with the account's name, so this module imports no app above accounts.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Link:
    tab: str
    label: str
    url_name: str


@dataclass(frozen=True)
class Group:
    label: str
    links: tuple[Link, ...] = field(default_factory=tuple)


NAVIGATION: tuple[Link | Group, ...] = (
    Link("dashboard", _("Dashboard"), "messaging:dashboard"),
    Group(
        _("Messages"),
        (
            Link("compose", _("Send an SMS"), "messaging:compose"),
            Link("history", _("History"), "messaging:history"),
            Link("campaigns", _("Campaigns"), "messaging:campaigns"),
            Link("scheduled", _("Planned sends"), "messaging:scheduled"),
            Link("received", _("Received"), "messaging:received"),
            Link("templates", _("Templates"), "messaging:templates"),
        ),
    ),
    Group(
        _("Contacts"),
        (
            Link("addressbooks", _("Address books"), "addressbooks:list"),
            Link("lists", _("Recipient lists"), "addressbooks:lists"),
            Link("stoplist", _("STOP list"), "messaging:stoplist"),
        ),
    ),
    Link("senders", _("Senders"), "senders:list"),
    Link("api", _("API users"), "api:keys"),
    Group(
        _("Options"),
        (
            Link("settings", _("Account settings"), "accounts:settings"),
            Link("webhooks", _("Callbacks"), "messaging:webhooks"),
            Link("credits", _("Credits"), "accounts:ledger"),
            Link("order", _("Buy credits"), "accounts:order"),
            Link("events", _("Activity"), "accounts:events"),
            Link("personal_data", _("Personal data"), "messaging:personal_data"),
        ),
    ),
)


def _entry(link: Link, account_name: str, tab: str) -> dict:
    return {
        "label": link.label,
        "url": reverse(link.url_name, args=[account_name]),
        "current": link.tab == tab,
    }


def account_navigation(account_name: str, tab: str) -> dict:
    """The entries to render for one page: groups carry their links; `current` is the label of
    the page's entry (shown on the phone's menu button), `section` the group it belongs to."""
    entries, current, section = [], None, None
    for node in NAVIGATION:
        if isinstance(node, Group):
            links = [_entry(link, account_name, tab) for link in node.links]
            here = next((link for link in links if link["current"]), None)
            entries.append({"label": node.label, "links": links, "current": here is not None})
            if here:
                current, section = here["label"], entries[-1]
        else:
            entries.append(_entry(node, account_name, tab))
            if entries[-1]["current"]:
                current = entries[-1]["label"]
    return {"entries": entries, "current": current, "section": section}
