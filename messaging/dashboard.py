"""The account's dashboard (« Tableau de bord »): credits, the latest movements and the
message statistics of messaging.stats."""

from django.http import HttpRequest
from django.shortcuts import render

from accounts.access import account_view

from .stats import account_stats


@account_view
def dashboard(request: HttpRequest):
    account = request.account
    movements = account.movements.select_related("created_by")[:10]
    return render(
        request,
        "messaging/dashboard.html",
        {
            "account": account,
            "movements": movements,
            # As the manager's dashboard: the latest campaigns and where they stand.
            "campaigns": account.campaigns.only(
                "uuid", "name", "status", "start_at", "total_records", "account_id"
            )[:5],
            "stats": account_stats(account, request.GET.get("period", "")),
            "tab": "dashboard",
        },
    )
