"""/sms/{serviceName}/receivers: recipient lists in slots, made from a document or a csvUrl."""

from django.shortcuts import get_object_or_404
from ninja import Router

from addressbooks import lists as recipient_lists
from addressbooks import parsers
from addressbooks import services as books
from addressbooks.forms import RecipientListForm
from addressbooks.models import RecipientList

from .. import schemas
from ..errors import ApiError
from ..models import ApiTask
from ..schemas import responses
from .base import account_for, column, done, form_invalid
from .documents import source_file

router = Router(tags=["receivers"])


def _rlist(request, service_name: str, slot: int) -> RecipientList:
    account = account_for(request, service_name)
    return get_object_or_404(RecipientList, account=account, slot=slot)


def _receiver_out(rlist: RecipientList) -> dict:
    return {"slotId": rlist.slot, "description": rlist.description, "records": rlist.records,
            "datetime": rlist.created_at}  # fmt: skip


@router.get("/sms/{serviceName}/receivers", response=responses(list[int]))
def receivers_list(request, serviceName: str):
    return column(request, serviceName, RecipientList, "slot")


@router.post("/sms/{serviceName}/receivers", response=responses(schemas.ReceiverOut))
def receivers_create(request, serviceName: str, payload: schemas.ReceiverIn):
    """A recipient list in slot slotId, from a CSV/TXT document or csvUrl (read once)."""
    account = account_for(request, serviceName)
    if payload.autoUpdate:
        raise ApiError.invalid("autoUpdate is not supported: the file is read once")
    with source_file(request, payload.documentId, payload.csvUrl) as upload:
        form = RecipientListForm(data={"description": payload.description},
                                 files={"file": upload})  # fmt: skip
        if not form.is_valid():
            raise form_invalid(form)
        try:
            rlist = recipient_lists.list_create(
                account=account,
                description=form.cleaned_data["description"],
                binary=form.cleaned_data["file"],
                slot=payload.slotId,
            )
        except recipient_lists.ListError as exc:
            raise ApiError.invalid(str(exc)) from None
        except parsers.ImportFileError as exc:
            raise ApiError.invalid(books.file_error_message(exc.code, exc.line)) from None
    return _receiver_out(rlist)


@router.get("/sms/{serviceName}/receivers/{slotId}", response=responses(schemas.ReceiverOut))
def receivers_get(request, serviceName: str, slotId: int):
    return _receiver_out(_rlist(request, serviceName, slotId))


@router.get("/sms/{serviceName}/receivers/{slotId}/csv", response=responses(str))
def receivers_csv(request, serviceName: str, slotId: int):
    """The list as CSV text: a number column, one number per line."""
    return "".join(recipient_lists.list_rows(_rlist(request, serviceName, slotId)))


@router.post("/sms/{serviceName}/receivers/{slotId}/clean", response=responses(schemas.CleanOut))
def receivers_clean(request, serviceName: str, slotId: int, payload: schemas.CleanIn):
    """Free cleaning (duplicates and invalid numbers); the paid HLR check is not offered."""
    rlist = _rlist(request, serviceName, slotId)
    if not payload.freemium:
        raise ApiError.invalid("Only the free cleaning (freemium: true) is available")
    if payload.priceOnly:
        return {"taskId": 0, "totalCreditsRemoved": 0}
    task = ApiTask.objects.create(account=rlist.account, status=ApiTask.Status.DOING)
    recipient_lists.list_clean(rlist)
    ApiTask.objects.filter(pk=task.pk).update(status=ApiTask.Status.DONE, step="finishing")
    return {"taskId": task.pk, "totalCreditsRemoved": 0}


@router.delete("/sms/{serviceName}/receivers/{slotId}", response=responses(None))
def receivers_delete(request, serviceName: str, slotId: int):
    recipient_lists.list_delete(_rlist(request, serviceName, slotId))
    return done()


@router.put("/sms/{serviceName}/receivers/{slotId}", response=responses(None))
def receivers_update(request, serviceName: str, slotId: int, payload: schemas.ReceiverUpdate):
    """Rename a list; autoUpdate cannot be turned on (the file is read once)."""
    rlist = _rlist(request, serviceName, slotId)
    if payload.autoUpdate:
        raise ApiError.invalid("autoUpdate is not supported: the file is read once")
    if payload.description is not None:
        description = payload.description.strip()
        if not description:
            raise ApiError.invalid("description: this field is required")
        try:
            recipient_lists.list_rename(rlist, description)
        except recipient_lists.ListError as exc:
            raise ApiError.invalid(f"description: {exc}") from None
    return done()
