"""The admin site: staff reach it only from a session that passed a two-factor code.

Its login page is the panel's (password step, then code step, both throttled); a staff member
without an authenticator yet is sent to set one up first.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse

from . import twofactor


class AdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def login(self, request, extra_context=None):
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        user = request.user
        if user.is_authenticated and not user.is_staff:
            return redirect("accounts:home")  # not a loop back through the login page
        if user.is_authenticated and user.is_active:
            if not twofactor.is_enabled(user):
                return redirect(f"{reverse('accounts:two_factor')}?{urlencode({'next': target})}")
            # Signed in with a password before the device existed: the code step now.
            twofactor.start_code_step(request, user, next_url=target)
            return redirect("accounts:login_code")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")

    def password_change(self, request, extra_context=None):
        # The panel's page, whose current-password check is throttled like the login.
        return redirect("accounts:password_change")
