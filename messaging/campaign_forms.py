"""The campaign form: the send form's audience, message, sender and options, plus a name, a
second variant, a pace, tracked links and the winner rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .campaign_models import Campaign
from .forms import SendForm


class CampaignForm(SendForm):
    name = forms.CharField(label=_("Campaign name"), max_length=100)
    message_b = forms.CharField(
        label=_("Variant B (optional)"),
        required=False,
        strip=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A second text: each recipient gets one of the two, the statistics compare them."),
    )
    share_a = forms.IntegerField(
        label=_("Share of variant A (%)"), min_value=1, max_value=100, initial=50, required=False
    )
    share_b = forms.IntegerField(
        label=_("Share of variant B (%)"), min_value=1, max_value=100, initial=50, required=False
    )
    winner_after_hours = forms.IntegerField(
        label=_("Send the winner to the rest after (hours)"),
        min_value=1,
        max_value=720,
        required=False,
        help_text=_("With shares adding up to less than 100 %: the rest of the audience gets the best variant's text then."),
    )
    winner_metric = forms.ChoiceField(
        label=_("Winner by"), choices=Campaign.Metric.choices, initial=Campaign.Metric.CLICKS
    )
    track_links = forms.BooleanField(
        label=_("Track the links: each URL becomes a short link per recipient, and clicks are counted."),
        required=False,
    )
    pace_kind = forms.ChoiceField(
        label=_("Pace"),
        choices=[
            ("", _("As fast as possible")),
            ("hours", _("Spread over N hours")),
            ("minute", _("At most N messages a minute")),
        ],
        required=False,
        widget=forms.RadioSelect,
    )
    pace_value = forms.IntegerField(label="N", min_value=1, max_value=100_000, required=False)

    field_order = ["name"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("pace_kind") and not cleaned.get("pace_value"):
            self.add_error("pace_value", _("Give the number of hours or of messages a minute."))
        if cleaned.get("pace_kind") == "hours" and (cleaned.get("pace_value") or 0) > 720:
            self.add_error("pace_value", _("A campaign can be spread over 720 hours at most."))
        if (cleaned.get("message_b") or "").strip():
            a, b = cleaned.get("share_a") or 0, cleaned.get("share_b") or 0
            if not a or not b:
                self.add_error("share_a", _("Give each variant its share of the audience."))
            elif a + b > 100:
                self.add_error("share_b", _("The shares add up to more than 100 %."))
            elif a + b < 100 and not cleaned.get("winner_after_hours"):
                self.add_error(
                    "winner_after_hours",
                    _("The shares leave part of the audience: say after how many hours it gets the winner."),
                )
            elif a + b == 100 and cleaned.get("winner_after_hours"):
                self.add_error(
                    "winner_after_hours",
                    _("To send the winner to the rest, leave part of the audience out of the shares."),
                )
        return cleaned

    def variants(self) -> list[dict]:
        data = self.cleaned_data
        variants = [{"message": data["message"], "share": data.get("share_a") or 100}]
        if (data.get("message_b") or "").strip():
            variants.append({"message": data["message_b"], "share": data["share_b"]})
        return variants

    def audience(self) -> dict:
        data = self.cleaned_data
        return {
            "typed": data["receivers"],
            "books": [b.pk for b in data["books"]],
            "lists": [rl.pk for rl in data["lists"]],
            "contacts": [c.pk for c in data["contacts"]],
        }
