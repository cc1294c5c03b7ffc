"""Staff side: the queue of sender requests (approve / refuse with a reason), the supporting
documents (downloaded only here), virtual numbers given to accounts, declared domain names."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts import audit

from . import services
from .forms import RefuseForm, VirtualNumberForm
from .models import Domain, Sender, SenderDocument


class SenderDocumentInline(admin.TabularInline):
    model = SenderDocument
    fields = ["original_name", "content_type", "size", "uploaded_at", "download"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description=gettext_lazy("File"))
    def download(self, obj):
        if not obj.pk or not obj.file:
            return "-"
        return format_html(
            '<a href="{}" data-testid="document-download">{}</a>',
            reverse("admin:senders_senderdocument_download", args=[obj.pk]),
            _("Download"),
        )


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = [
        "sender",
        "account",
        "status",
        "referer",
        "type",
        "description",
        "documents_count",
        "created_at",
        "decided_at",
    ]
    list_filter = ["status", "type", "referer"]
    search_fields = ["sender", "account__name"]
    list_select_related = ["account"]
    # Oldest first: the queue of requests is worked from its head.
    ordering = ["created_at", "id"]
    fields = [
        "account",
        "sender",
        "type",
        "referer",
        "status",
        "description",
        "reason",
        "comment",
        "created_at",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = [f for f in fields if f != "description"]
    inlines = [SenderDocumentInline]
    actions = ["approve_selected", "refuse_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(documents_total=Count("documents"))

    @admin.display(description=gettext_lazy("Documents"), ordering="documents_total")
    def documents_count(self, obj):
        return obj.documents_total

    # Senders come from customers' requests or from "Assign a virtual number"; the status only
    # changes through the decisions, which record who decided and e-mail the customer.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.has_pending_jobs():
            return False
        return super().has_delete_permission(request, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("refuse/", wrap(self.refuse_view), name="senders_sender_refuse"),
            path(
                "virtual-number/",
                wrap(self.virtual_number_view),
                name="senders_sender_virtual_number",
            ),
            path(
                "documents/<int:document_id>/download/",
                wrap(self.download_view),
                name="senders_senderdocument_download",
            ),
            path(
                "<int:object_id>/approve/",
                wrap(require_POST(self.approve_view)),
                name="senders_sender_approve",
            ),
            *super().get_urls(),
        ]

    # --- decisions ------------------------------------------------------------------------

    def _approve(self, request, sender) -> bool:
        try:
            services.sender_approve(sender, request.user)
        except services.NotWaiting as error:
            self.message_user(request, str(error), messages.WARNING)
            return False
        self.log_change(request, sender, "Approved")
        audit.record(
            audit.Action.SENDER_DECISION,
            request=request,
            account=sender.account,
            detail=f"{sender.sender}: approved",
        )
        return True

    @admin.action(description=gettext_lazy("Approve"), permissions=["change"])
    def approve_selected(self, request, queryset):
        done = sum(self._approve(request, sender) for sender in queryset.order_by("created_at"))
        if done:
            self.message_user(
                request,
                ngettext("%(n)d sender approved.", "%(n)d senders approved.", done) % {"n": done},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Refuse…"), permissions=["change"])
    def refuse_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:senders_sender_refuse')}?ids={ids}")

    def approve_view(self, request, object_id):
        sender = get_object_or_404(Sender, pk=object_id)
        if not self.has_change_permission(request, sender):
            raise PermissionDenied
        if self._approve(request, sender):
            self.message_user(
                request, _("%(sender)s was approved.") % {"sender": sender}, messages.SUCCESS
            )
        return redirect("admin:senders_sender_change", sender.pk)

    def refuse_view(self, request):
        """The reason page between "Refuse" and the decision (one sender or a selection)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        raw = request.POST.get("ids") or request.GET.get("ids", "")
        ids = [int(x) for x in raw.split(",") if x.strip().isdigit()]
        senders = list(
            Sender.objects.filter(pk__in=ids).select_related("account").order_by("created_at")
        )
        if not senders:
            self.message_user(request, _("No sender selected."), messages.WARNING)
            return redirect("admin:senders_sender_changelist")
        form = RefuseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            done = 0
            for sender in senders:
                try:
                    services.sender_refuse(sender, request.user, reason)
                except services.NotWaiting as error:
                    self.message_user(request, str(error), messages.WARNING)
                    continue
                self.log_change(request, sender, f"Refused: {reason}")
                audit.record(
                    audit.Action.SENDER_DECISION,
                    request=request,
                    account=sender.account,
                    detail=f"{sender.sender}: refused ({reason})",
                )
                done += 1
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d sender refused.", "%(n)d senders refused.", done) % {"n": done},
                    messages.SUCCESS,
                )
            if len(senders) == 1:
                return redirect("admin:senders_sender_change", senders[0].pk)
            return redirect("admin:senders_sender_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Refuse senders"),
            "senders": senders,
            "ids": ",".join(str(s.pk) for s in senders),
            "form": form,
        }
        return render(request, "admin/senders/sender/refuse.html", context)

    # --- documents and virtual numbers -----------------------------------------------------

    def download_view(self, request, document_id):
        document = get_object_or_404(
            SenderDocument.objects.select_related("sender"), pk=document_id
        )
        if not self.has_view_permission(request, document.sender):
            raise PermissionDenied
        if not document.file:
            raise Http404("The document has no content yet")
        try:
            handle = document.file.open("rb")
        except FileNotFoundError:
            raise Http404("The file is missing") from None
        return FileResponse(
            handle,
            as_attachment=True,
            # Never the customer's file name ("invoice.exe"): ours, with the extension of the
            # type read from the content.
            filename=document.download_name,
            content_type=document.content_type,
        )

    def virtual_number_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = VirtualNumberForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                sender = services.virtual_number_assign(
                    account=form.cleaned_data["account"],
                    number=form.cleaned_data["number"],
                    description=form.cleaned_data["description"],
                    by=request.user,
                )
            except services.SenderExists as error:
                form.add_error("number", str(error))
            else:
                self.log_addition(request, sender, "Virtual number assigned")
                self.message_user(
                    request,
                    _("%(number)s was assigned to %(account)s.")
                    % {"number": sender.sender, "account": sender.account.name},
                    messages.SUCCESS,
                )
                return redirect("admin:senders_sender_change", sender.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Assign a virtual number"),
            "form": form,
        }
        return render(request, "admin/senders/sender/virtual_number.html", context)


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "created_at"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
