from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyModelAdmin

from . import audit, services
from .forms import StaffCreditForm
from .models import (
    AuditEvent,
    CreditMovement,
    CreditOrder,
    DestinationRate,
    Membership,
    SmsAccount,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "account"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "company",
        "handle",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name", "company", "handle"]
    readonly_fields = ["handle", "last_login", "date_joined"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password", "handle"]}),
        (_("Personal information"), {"fields": ["first_name", "last_name", "company"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class CreditMovementInline(admin.TabularInline):
    model = CreditMovement
    fields = ["created_at", "kind", "amount", "balance_after", "reason", "key", "created_by"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    show_change_link = False

    def get_queryset(self, request):
        # Only the latest movements: the full ledger is on its own admin page.
        return super().get_queryset(request).select_related("created_by")


@admin.register(SmsAccount)
class SmsAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "status", "credits", "default_region", "created_at"]
    list_filter = ["status", "default_region"]
    search_fields = ["name", "description", "memberships__user__email"]
    readonly_fields = ["credits", "created_at", "credit_link"]
    fields = [
        "name",
        "description",
        "default_region",
        "status",
        "credits",
        "credit_link",
        "created_at",
    ]
    inlines = [MembershipInline]

    # Not "Credits": the balance above already has that label.
    @admin.display(description=_("Credit operations"))
    def credit_link(self, obj):
        if not obj.pk:
            return "-"
        return format_html(
            '<a class="button" href="{}">{}</a> <a href="{}?account__id__exact={}">{}</a>',
            reverse("admin:accounts_smsaccount_credit", args=[obj.pk]),
            _("Credit or adjust"),
            reverse("admin:accounts_creditmovement_changelist"),
            obj.pk,
            _("Ledger"),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/credit/",
                self.admin_site.admin_view(self.credit_view),
                name="accounts_smsaccount_credit",
            ),
            *super().get_urls(),
        ]

    def credit_view(self, request, pk):
        account = get_object_or_404(SmsAccount, pk=pk)
        if not self.has_change_permission(request, account):
            return redirect("admin:index")
        form = StaffCreditForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            import uuid

            try:
                services.credits_add(
                    account=account,
                    amount=form.cleaned_data["amount"],
                    kind=form.cleaned_data["kind"],
                    key=f"staff:{uuid.uuid4()}",
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except services.InsufficientCredits:
                form.add_error("amount", _("The account does not hold that many credits."))
            else:
                audit.record(
                    audit.Action.CREDITS,
                    request=request,
                    account=account,
                    detail=f"{form.cleaned_data['amount']:+} ({form.cleaned_data['kind']}): "
                    f"{form.cleaned_data['reason']}",
                )
                self.message_user(request, _("The ledger was updated."), messages.SUCCESS)
                return redirect("admin:accounts_smsaccount_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": account,
            "title": _("Credit %(name)s") % {"name": account.name},
            "form": form,
        }
        return render(request, "admin/accounts/credit.html", context)


@admin.register(CreditMovement)
class CreditMovementAdmin(ReadOnlyModelAdmin):
    """The ledger is append-only: staff read it here and change it through "Credit or adjust"."""

    list_display = [
        "created_at",
        "account",
        "kind",
        "amount",
        "balance_after",
        "reason",
        "created_by",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["account__name", "key", "reason"]
    list_select_related = ["account", "created_by"]
    date_hierarchy = "created_at"


@admin.register(DestinationRate)
class DestinationRateAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "calling_code", "credits_per_segment"]
    list_editable = ["credits_per_segment"]
    search_fields = ["name", "country"]
    ordering = ["name"]

    def save_model(self, request, obj, form, change):
        before = (
            DestinationRate.objects.filter(pk=obj.pk)
            .values_list("credits_per_segment", flat=True)
            .first()
        )
        super().save_model(request, obj, form, change)
        if before != obj.credits_per_segment:
            audit.record(
                audit.Action.RATE_CHANGED,
                request=request,
                detail=f"{obj.country}: {before if before is not None else '—'} → "
                f"{obj.credits_per_segment}",
            )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        audit.record(audit.Action.RATE_CHANGED, request=request, detail=f"{obj.country}: deleted")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """Append-only: staff read every event here; nothing can be changed or deleted."""

    list_display = ["created_at", "action", "actor", "subject", "account", "ip", "detail"]
    list_filter = ["action", "created_at"]
    search_fields = ["actor__email", "subject__email", "account__name", "ip", "detail"]
    list_select_related = ["actor", "subject", "account"]
    date_hierarchy = "created_at"


@admin.register(CreditOrder)
class CreditOrderAdmin(admin.ModelAdmin):
    """Customers' orders of credit packs: confirming one credits the account (once)."""

    list_display = ["id", "created_at", "account", "quantity", "total", "status", "decided_by"]
    list_filter = ["status", "created_at"]
    search_fields = ["account__name", "created_by__email"]
    list_select_related = ["account", "decided_by"]
    readonly_fields = [f.name for f in CreditOrder._meta.fields]
    actions = ["confirm", "cancel"]

    @admin.display(description=_("total (€, excl. tax)"))
    def total(self, obj):
        return obj.total

    def has_add_permission(self, request):
        return False  # customers place orders; staff confirm or cancel them

    @admin.action(description=_("Confirm the selected orders (adds their credits)"))
    def confirm(self, request, queryset):
        done = [pk for pk in queryset.values_list("pk", flat=True)
                if services.order_confirm(order_id=pk, by=request.user)]  # fmt: skip
        self.message_user(
            request, _("%(n)s order(s) confirmed and credited.") % {"n": len(done)},
            messages.SUCCESS,
        )  # fmt: skip

    @admin.action(description=_("Cancel the selected orders"))
    def cancel(self, request, queryset):
        done = [pk for pk in queryset.values_list("pk", flat=True)
                if services.order_cancel(order_id=pk, by=request.user)]  # fmt: skip
        self.message_user(
            request, _("%(n)s order(s) cancelled.") % {"n": len(done)}, messages.SUCCESS
        )
