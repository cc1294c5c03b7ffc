from django.urls import path

from . import list_views, views

app_name = "addressbooks"

P = "sms/<str:service>/addressbooks/"

urlpatterns = [
    path(P, views.book_list, name="list"),
    path(P + "<int:book_id>/", views.book_detail, name="book"),
    path(P + "<int:book_id>/rename/", views.book_rename, name="rename"),
    path(P + "<int:book_id>/delete/", views.book_delete, name="delete"),
    path(P + "<int:book_id>/export/", views.book_export, name="export"),
    path(P + "<int:book_id>/import/", views.import_upload, name="import"),
    path(P + "<int:book_id>/contacts/add/", views.contact_add, name="contact_add"),
    path(P + "<int:book_id>/contacts/delete/", views.contacts_delete, name="contacts_delete"),
    path(P + "<int:book_id>/contacts/send/", views.contacts_send, name="contacts_send"),
    path(P + "contacts/<int:contact_id>/edit/", views.contact_edit, name="contact_edit"),
    path(P + "imports/<int:import_id>/", views.import_status, name="import_status"),
    path(P + "imports/<int:import_id>/rejected.csv", views.import_rejected, name="rejected"),
]

L = "sms/<str:service>/lists/"

urlpatterns += [
    path(L, list_views.list_index, name="lists"),
    path(L + "<int:slot>/", list_views.list_detail, name="list_detail"),
    path(L + "<int:slot>/status/", list_views.list_status, name="list_status"),
    path(L + "<int:slot>/export/", list_views.list_export, name="list_export"),
    path(L + "<int:slot>/clean/", list_views.list_clean, name="list_clean"),
    path(L + "<int:slot>/delete/", list_views.list_delete, name="list_delete"),
]
