from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import security, views
from .forms import LimitedPasswordResetForm

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", security.LoginView.as_view(), name="login"),
    path("login/code/", security.login_code, name="login_code"),
    path("security/", security.two_factor, name="two_factor"),
    path("security/recovery-codes/", security.recovery_codes, name="recovery_codes"),
    path("verify/send/", security.verify_email_send, name="verify_email_send"),
    path("verify/<str:token>/", security.verify_email, name="verify_email"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", views.signup, name="signup"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=LimitedPasswordResetForm,
            success_url=reverse_lazy("accounts:password_reset_done"),
            email_template_name="registration/password_reset_email.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        security.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        security.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path("sms/", views.account_list, name="account_list"),
    path("sms/new/", views.account_create, name="account_create"),
    path("sms/<str:service>/credits/", views.ledger, name="ledger"),
    path("sms/<str:service>/credits/transfer/", views.transfer, name="transfer"),
    path("sms/<str:service>/credits/order/", views.order, name="order"),
    path("sms/<str:service>/settings/", views.account_settings, name="settings"),
    path("sms/<str:service>/events/", security.events, name="events"),
]
