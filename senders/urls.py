from django.urls import path

from . import views

app_name = "senders"

urlpatterns = [
    path("sms/<str:service>/senders/", views.sender_list, name="list"),
    path("sms/<str:service>/senders/add/", views.sender_add, name="add"),
    path("sms/<str:service>/senders/domains/add/", views.domain_add, name="domain_add"),
    path("sms/<str:service>/senders/domains/delete/", views.domain_delete, name="domain_delete"),
    path("sms/<str:service>/senders/<int:sender_id>/edit/", views.sender_edit, name="edit"),
    path("sms/<str:service>/senders/<int:sender_id>/toggle/", views.sender_toggle, name="toggle"),
    path("sms/<str:service>/senders/<int:sender_id>/delete/", views.sender_delete, name="delete"),
]
