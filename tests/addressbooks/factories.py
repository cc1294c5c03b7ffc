import factory

from addressbooks.models import AddressBook, Contact, ContactImport
from tests.accounts.factories import AccountFactory


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AddressBook

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Clients {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    book = factory.SubFactory(BookFactory)
    surname = factory.Sequence(lambda n: f"Dupont{n}")
    name = "Marie"
    home_mobile = factory.Sequence(lambda n: f"+3361{n:07d}")


def _sweep_book(account):
    book, _ = AddressBook.objects.get_or_create(account=account, name="Sweep")
    return book


# For tests/accounts/test_ownership_sweep.py OBJECT_MAKERS: one shared book per account, so
# that the URLs naming a book and those naming a contact or an import agree.
def make_book(account):
    return _sweep_book(account)


def make_contact(account):
    return ContactFactory(book=_sweep_book(account))


def make_import(account):
    return ContactImport.objects.create(
        book=_sweep_book(account),
        file="contact-imports/sweep.csv",
        original_name="sweep.csv",
        status=ContactImport.Status.DONE,
    )


def make_recipient_list(account):
    """For the ownership sweep (URL kwarg `slot`): a list of `account` with two numbers."""
    from addressbooks.models import RecipientList, RecipientListNumber

    taken = set(RecipientList.objects.filter(account=account).values_list("slot", flat=True))
    slot = next(s for s in range(1, 10) if s not in taken)
    rlist = RecipientList.objects.create(account=account, slot=slot, description="Sweep", records=2)
    RecipientListNumber.objects.bulk_create(
        RecipientListNumber(rlist=rlist, number=n, region="FR")
        for n in ("+33612345678", "+33612345679")
    )
    return rlist
