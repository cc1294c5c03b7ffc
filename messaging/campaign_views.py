"""Campaign pages: the history (« Historique des campagnes »), the creation form (« Créer une
campagne ») and a campaign's page with its live statistics, pause, resume, cancel, rename and
the CSV of per-recipient outcomes."""

from django.contrib import messages
from django.http import HttpRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.access import account_view
from core.csv_export import export_stamp, stream_csv

from . import campaign_stats, campaigns
from .campaign_forms import CampaignForm
from .models import Campaign, MessageTemplate
from .views import counter_context

# What the campaign page's buttons do (one URL each, POST only).
ACTIONS = ("pause", "resume", "cancel", "rename", "delete")


def _campaign_for(request, campaign_uuid) -> Campaign:
    return get_object_or_404(Campaign, uuid=campaign_uuid, account=request.account)


@account_view
def campaign_list(request: HttpRequest):
    rows = list(Campaign.objects.filter(account=request.account).order_by("-created_at", "-id")[:200])
    return render(
        request,
        "messaging/campaigns.html",
        {"account": request.account, "campaigns": rows, "tab": "campaigns"},
    )


@account_view
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest):
    account = request.account
    data = request.POST.copy() if request.method == "POST" else QueryDict(mutable=True)
    form = CampaignForm(data if request.method == "POST" else None, account=account)
    if request.method == "POST" and "send" in request.POST and form.is_valid():
        cleaned = form.cleaned_data
        try:
            campaign = campaigns.campaign_create(
                account=account,
                user=request.user,
                name=cleaned["name"],
                variants=form.variants(),
                audience=form.audience(),
                sender=cleaned["sender"],
                stop_clause=not cleaned["no_stop_clause"],
                sms_class=cleaned["sms_class"],
                tag=cleaned["tag"],
                start_at=cleaned["scheduled_at"],
                pace_kind=cleaned.get("pace_kind") or "",
                pace_value=cleaned.get("pace_value"),
                track_links=cleaned["track_links"],
                winner_after_hours=cleaned.get("winner_after_hours"),
                winner_metric=cleaned["winner_metric"],
            )
        except campaigns.CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The campaign %(name)s was created.") % {"name": campaign.name})
            return redirect(campaign)
    # The counter and its estimate only when the form is shown again (an audience of a million
    # is counted by the database, not while the campaign is being created).
    context = counter_context(account, data)
    return render(
        request,
        "messaging/campaign_new.html",
        {
            "account": account,
            "form": form,
            "tab": "campaigns",
            "templates": MessageTemplate.objects.filter(account=account).only("id", "name"),
            **context,
        },
    )


@account_view
def campaign_detail(request: HttpRequest, campaign_uuid):
    campaign = _campaign_for(request, campaign_uuid)
    stats = campaign_stats.statistics(campaign)
    context = {
        "account": request.account,
        "campaign": campaign,
        "stats": stats,
        "chart": campaign_stats.sent_over_time(campaign),
        "tab": "campaigns",
        "live": campaign.status not in Campaign.FINAL or stats["pending"],
    }
    if request.htmx:
        response = render(request, "messaging/campaign.html#live", context)
        if not context["live"]:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    movements = request.account.movements.filter(reason__endswith=f"[{campaign.uuid}]")[:50]
    return render(request, "messaging/campaign.html", {**context, "movements": movements})


@account_view
@require_POST
def campaign_action(request: HttpRequest, campaign_uuid, action: str):
    campaign = _campaign_for(request, campaign_uuid)
    if action == "pause":
        done = campaigns.campaign_pause(campaign)
        text = _("The campaign is paused.")
    elif action == "resume":
        done = campaigns.campaign_resume(campaign)
        text = _("The campaign goes on.")
    elif action == "cancel":
        refunded = campaigns.campaign_cancel(campaign)
        done = refunded is not None
        text = _("The campaign was cancelled and %(credits)s credits were refunded.") % {
            "credits": number_format(refunded or 0, 2)
        }
    elif action == "rename":
        try:
            campaigns.campaign_rename(campaign, request.POST.get("name", ""))
        except campaigns.CampaignError as error:
            done, text = False, str(error)
        else:
            done, text = True, _("The campaign was renamed.")
    elif action == "delete":
        done = campaigns.campaign_delete(campaign)
        if done:
            messages.success(request, _("The campaign was deleted; its messages stay in the history."))
            return redirect("messaging:campaigns", request.account.name)
        text = ""
    else:
        done, text = False, ""
    if done:
        messages.success(request, text)
    else:
        messages.error(request, text or _("This cannot be done in the campaign's current state."))
    return redirect(campaign)


@account_view
def campaign_export(request: HttpRequest, campaign_uuid):
    campaign = _campaign_for(request, campaign_uuid)
    return stream_csv(
        campaign_stats.export_rows(campaign),
        f"{request.account.name}-campaign-{export_stamp()}.csv",
    )
