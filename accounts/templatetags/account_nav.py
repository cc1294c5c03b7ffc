from django import template

from accounts.navigation import account_navigation

register = template.Library()


@register.inclusion_tag("accounts/_account_nav.html", takes_context=True)
def account_nav(context):
    """The account's navigation for the page being rendered (its `account` and `tab`)."""
    return account_navigation(context["account"].name, context.get("tab") or "")
