from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("sms/<str:service>/send/", views.compose, name="compose"),
    path("sms/<str:service>/send/counter/", views.counter, name="counter"),
]
