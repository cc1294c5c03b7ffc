"""Loaded with `-p tests.env_plugin` before pytest-django reads the settings module.

Tests talk plain HTTP to the live server: no HTTPS redirect, no secure-only cookies, no HSTS.
"""

import os

os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
