"""Staff pages for routes: settings, write-only credentials, countries, and how each fares."""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit

from .models import OutgoingMessage, Route, RouteCountry, RouteFailover, SmppOutbox
from .route_models import HEARTBEAT_STALE_SECONDS
from .routing import CONFIG_HELP

# Secret fields per kind; each one is kept as it is when left empty.
SECRETS = ("password", "token", "application_key", "application_secret", "consumer_key")


def _secret_field(label):
    # render_value=False: a saved secret is never sent back to a browser.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class RouteForm(forms.ModelForm):
    password = _secret_field(gettext_lazy("password"))
    token = _secret_field(gettext_lazy("token"))
    application_key = _secret_field(gettext_lazy("application key"))
    application_secret = _secret_field(gettext_lazy("application secret"))
    consumer_key = _secret_field(gettext_lazy("consumer key"))

    class Meta:
        model = Route
        fields = ["name", "kind", "enabled", "config", "throughput", "failover_errors"]
        help_texts = {
            "config": gettext_lazy(
                "JSON. SMPP: host, port, system_id, system_type, window, gsm7_packed, "
                "short_code. HTTP: url. OVHcloud: endpoint, service_name, sender."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.credentials or {}
        for name in SECRETS:
            self.fields[name].help_text = (
                _("set, leave empty to keep it") if stored.get(name) else _("not set")
            )

    def clean_config(self):
        config = self.cleaned_data["config"]
        if not isinstance(config, dict):
            raise forms.ValidationError(_('Enter a JSON object, e.g. {"host": "smsc"}.'))
        return config

    def clean(self):
        cleaned = super().clean()
        config = cleaned.get("config") or {}
        if cleaned.get("kind") == Route.Kind.SMPP:
            missing = [k for k in ("host", "port", "system_id") if not config.get(k)]
            if missing:
                self.add_error("config", _("An SMPP route needs: %s.") % ", ".join(missing))
            window = config.get("window", 10)
            if not isinstance(window, int) or not 1 <= window <= 1000:
                self.add_error("config", _("window: a whole number from 1 to 1000."))
        if cleaned.get("kind") == Route.Kind.HTTP and not config.get("url"):
            self.add_error("config", _("A generic HTTP route needs a url."))
        return cleaned

    def save(self, commit=True):
        route = super().save(commit=False)
        credentials = dict(route.credentials or {})
        for name in SECRETS:
            if self.cleaned_data.get(name):
                credentials[name] = self.cleaned_data[name]
        route.credentials = credentials
        if commit:
            route.save()
        return route


class RouteCountryInline(admin.TabularInline):
    model = RouteCountry
    extra = 1


def route_figures(route: Route, *, now=None) -> dict:
    """What the route page shows: bound or not, current throughput, errors and failovers in
    the last hour, reports waiting."""
    now = now or timezone.now()
    hour = now - timedelta(hours=1)
    minute = now - timedelta(minutes=1)
    carried = OutgoingMessage.objects.filter(route=route)
    fresh = route.heartbeat_at and route.heartbeat_at > now - timedelta(
        seconds=HEARTBEAT_STALE_SECONDS
    )
    counts = carried.filter(submitted_at__gte=hour).aggregate(
        last_minute=Count("id", filter=Q(submitted_at__gte=minute)),
        failed=Count("id", filter=Q(status__in=["failed", "undelivered"])),
    )
    failovers = RouteFailover.objects.filter(from_route=route, at__gte=hour).count()
    return {
        "bound": route.link == Route.Link.UP and (route.kind != Route.Kind.SMPP or bool(fresh)),
        "throughput": round(counts["last_minute"] / 60, 1),
        "errors_last_hour": counts["failed"] + failovers,
        "failovers_last_hour": failovers,
        "failovers_into_last_hour": RouteFailover.objects.filter(
            to_route=route, at__gte=hour
        ).count(),
        "reports_waiting": carried.filter(status=OutgoingMessage.Status.SUBMITTED).count(),
        "waiting_for_connector": SmppOutbox.objects.filter(
            route=route, state__in=[SmppOutbox.State.WAITING, SmppOutbox.State.SENDING]
        ).count(),
    }


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    form = RouteForm
    inlines = [RouteCountryInline]
    list_display = ["name", "kind", "enabled", "link", "throughput", "link_changed_at"]
    list_filter = ["kind", "enabled", "link"]
    readonly_fields = ["status", "link", "link_error", "link_changed_at", "heartbeat_at"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The names of what changed, never the values: credentials are among the fields.
        changed = list(form.changed_data)
        if any(formset.has_changed() for formset in formsets):
            changed.append("countries")
        if changed or not change:
            what = ", ".join(changed) if change else "added"
            audit.record(
                audit.Action.ROUTE_CHANGED, request=request, detail=f"{form.instance.name}: {what}"
            )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        audit.record(audit.Action.ROUTE_CHANGED, request=request, detail=f"{obj.name}: deleted")

    def get_fieldsets(self, request, obj=None):
        main = ["name", "kind", "enabled", "config", "throughput", "failover_errors"]
        sets = [(None, {"fields": main}), (_("Credentials"), {"fields": list(SECRETS)})]
        if obj is not None:
            sets.append((_("Status"), {"fields": self.readonly_fields}))
        return sets

    @admin.display(description=gettext_lazy("Right now"))
    def status(self, route):
        figures = route_figures(route)
        rows = [
            (_("Bound"), _("yes") if figures["bound"] else _("no")),
            (_("Throughput (messages/s, last minute)"), figures["throughput"]),
            (_("Errors in the last hour"), figures["errors_last_hour"]),
            (_("Failovers to other routes in the last hour"), figures["failovers_last_hour"]),
            (
                _("Failovers from other routes in the last hour"),
                figures["failovers_into_last_hour"],
            ),
            (_("Messages waiting for their report"), figures["reports_waiting"]),
            (_("Messages waiting for the connector"), figures["waiting_for_connector"]),
            (_("Settings this kind reads"), CONFIG_HELP.get(route.kind, "")),
        ]
        return format_html_join(
            "", '<div class="route-figure"><strong>{}</strong>: <span>{}</span></div>', rows
        )
