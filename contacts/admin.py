"""Admin for relations: look them up by either user's name."""

from django.contrib import admin

from contacts.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "userA", "userB", "status", "updated_at"]
    list_filter = ["status"]
    list_select_related = ["userA", "userB"]
    search_fields = ["userA__username", "userB__username"]
    raw_id_fields = ["userA", "userB"]
    readonly_fields = ["created_at", "updated_at"]
