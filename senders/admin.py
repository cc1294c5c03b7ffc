from django.contrib import admin

from .models import Sender


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = ["sender", "account", "type", "status", "description", "created_at"]
    list_filter = ["status", "type"]
    search_fields = ["sender", "account__name"]
    autocomplete_fields = ["account"]
    ordering = ["created_at"]
