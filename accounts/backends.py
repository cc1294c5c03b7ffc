"""The authentication backend: Django's ModelBackend behind the login throttle.

Throttling here rather than in a form covers every form that checks a password through
Django's authenticate(): the panel's login, and the admin's, which sends staff to it.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from core.ratelimit import client_ip

from . import throttle


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        if not username or password is None:
            return None
        email = username.strip().lower()
        ip = client_ip(request) if request is not None else "internal"
        try:
            throttle.reserve(email, ip)
        except throttle.Throttled:
            if request is not None:
                request.login_throttled = True
            # Stops authenticate() at once (no other backend tries) and sends user_login_failed.
            raise PermissionDenied from None
        user = super().authenticate(request, username=email, password=password)
        if user is not None:
            throttle.succeeded(email, ip)
        return user
