from django.contrib import admin

from .models import AddressBook, ContactImport


@admin.register(AddressBook)
class AddressBookAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "contacts_count", "created_at"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    readonly_fields = ["contacts_count"]


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "book", "status", "total_lines", "imported", "rejected"]
    list_filter = ["status"]
    list_select_related = ["book"]
    raw_id_fields = ["book"]
    exclude = ["file", "report"]  # customer data: not downloadable from here
    readonly_fields = [
        "original_name", "status", "total_lines", "imported", "duplicates", "rejected",
        "failure", "errors", "created_at", "started_at", "finished_at",
    ]  # fmt: skip
