"""Staff views of sending: jobs and messages (read-only: they change only through services),
and the dispatch health page."""

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

from core.admin import ReadOnlyModelAdmin

from . import health, route_admin  # route_admin also registers the route pages
from .models import OutgoingMessage, Route, SmsJob, TemplateControl, UnmatchedReport


@admin.register(SmsJob)
class SmsJobAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "account", "status", "recipients_count", "credits", "created_at"]
    list_filter = ["status"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    show_full_result_count = False

    def get_urls(self):
        return [
            path(
                "dispatch-health/",
                self.admin_site.admin_view(self.health_view),
                name="messaging_dispatch_health",
            ),
            *super().get_urls(),
        ]

    def health_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Dispatch health"),
            "health": health.health(),
            "routes": [
                (route, route_admin.route_figures(route)) for route in Route.objects.all()
            ],
        }
        return TemplateResponse(request, "admin/messaging/dispatch_health.html", context)


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "job_id", "receiver", "status", "attempts", "operator_id", "route"]
    list_display += ["possible_duplicate", "created_at"]
    list_filter = ["status", "route", "possible_duplicate"]
    search_fields = ["=receiver", "=operator_id"]
    show_full_result_count = False


@admin.register(UnmatchedReport)
class UnmatchedReportAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "kind", "operator_id", "received_at"]
    list_filter = ["kind"]
    search_fields = ["=operator_id"]

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # staff may clear what will never match


class TemplateControlForm(forms.ModelForm):
    class Meta:
        model = TemplateControl
        fields = ["status", "comment"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == TemplateControl.Status.REFUSED and not cleaned.get("comment"):
            self.add_error("comment", _("Give the reason of the refusal: the customer reads it."))
        return cleaned


@admin.register(TemplateControl)
class TemplateControlAdmin(admin.ModelAdmin):
    """Staff decide: status enable (approved) or refused with the reason in the comment."""

    form = TemplateControlForm
    list_display = ["name", "account", "activity", "status", "created_at"]
    list_filter = ["status", "activity"]
    search_fields = ["name", "account__name"]
    readonly_fields = ["account", "name", "activity", "description", "message", "reason",
                       "created_at"]  # fmt: skip
    actions = ["approve_selected"]

    def has_add_permission(self, request):
        return False  # customers submit them through the API

    @admin.action(description=_("Approve the selected templates"))
    def approve_selected(self, request, queryset):
        done = queryset.exclude(status=TemplateControl.Status.ENABLE).update(
            status=TemplateControl.Status.ENABLE, comment=""
        )
        self.message_user(request, _("%(n)d templates approved.") % {"n": done})
