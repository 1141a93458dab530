"""Guide maintenance for the reimbursement team: inline editing, ordering by position, change history."""

from django.contrib import admin
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from codes.models import CodingRule, Guide, GuideEntry, GuideNote, GuideSection, NcciEdit
from reimbursement import roles


class TeamOnly:
    """Guide maintenance is for the reimbursement team (support agents' catalog view rights do not reach it)."""

    def has_module_permission(self, request):
        return roles.is_reimbursement_team(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return roles.is_reimbursement_team(request.user) and super().has_view_permission(request, obj)


class GuideSectionInline(admin.TabularInline):
    model = GuideSection
    fields = ["position", "kind", "title", "edit_link"]
    readonly_fields = ["edit_link"]
    ordering = ["position", "id"]
    extra = 0
    show_change_link = True

    @admin.display(description="Entries and notes")
    def edit_link(self, section):
        if not section.pk:
            return "Save first"
        return format_html("{} entries, {} notes", section.entries.count(), section.notes.count())


class CodingRuleInline(admin.TabularInline):
    model = CodingRule
    fields = ["name", "kind", "severity", "codes", "other_codes", "message", "note", "active"]
    extra = 0

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "note":
            guide_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = GuideNote.objects.filter(section__guide_id=guide_id).select_related("section")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Guide)
class GuideAdmin(TeamOnly, SimpleHistoryAdmin):
    list_display = ["title", "slug", "status", "updated_at", "view_on_site_link"]
    list_filter = ["status"]
    search_fields = ["title", "therapy", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [GuideSectionInline, CodingRuleInline]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "therapy", "status"]}),
        ("Text", {"fields": ["introduction", "disclaimer"]}),
    ]

    @admin.display(description="Page")
    def view_on_site_link(self, guide):
        return format_html('<a href="{}">open</a>', guide.get_absolute_url())

    @admin.action(description="Publish the selected guides")
    def publish(self, request, queryset):
        for guide in queryset:  # one save each so the change history records who published
            guide.status = Guide.Status.PUBLISHED
            guide.save(update_fields=["status", "updated_at"])

    @admin.action(description="Return the selected guides to draft")
    def unpublish(self, request, queryset):
        for guide in queryset:
            guide.status = Guide.Status.DRAFT
            guide.save(update_fields=["status", "updated_at"])


class GuideEntryInline(admin.TabularInline):
    model = GuideEntry
    fields = ["position", "group", "code_text", "label", "note"]
    ordering = ["position", "id"]
    extra = 1


class GuideNoteInline(admin.TabularInline):
    model = GuideNote
    fields = ["position", "group", "text"]
    ordering = ["position", "id"]
    extra = 0


@admin.register(GuideSection)
class GuideSectionAdmin(TeamOnly, SimpleHistoryAdmin):
    list_display = ["title", "guide", "kind", "position"]
    list_filter = ["guide", "kind"]
    list_editable = ["position"]
    list_select_related = ["guide"]
    search_fields = ["title", "entries__code_text"]
    inlines = [GuideEntryInline, GuideNoteInline]


@admin.register(GuideEntry)
class GuideEntryAdmin(TeamOnly, SimpleHistoryAdmin):
    list_display = ["code_text", "group", "label", "section", "position"]
    list_filter = ["section__guide", "section__kind"]
    list_select_related = ["section__guide"]
    search_fields = ["code_text", "label", "group"]


@admin.register(GuideNote)
class GuideNoteAdmin(TeamOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "section", "group", "position"]
    list_filter = ["section__guide"]
    list_select_related = ["section__guide"]
    search_fields = ["text"]


@admin.register(CodingRule)
class CodingRuleAdmin(TeamOnly, SimpleHistoryAdmin):
    list_display = ["name", "guide", "kind", "severity", "codes", "other_codes", "active"]
    list_filter = ["guide", "kind", "severity", "active"]
    search_fields = ["name", "codes", "other_codes", "message"]


@admin.register(NcciEdit)
class NcciEditAdmin(admin.ModelAdmin):
    list_display = ["column1", "column2", "table", "effective_from", "deleted_on", "modifier_indicator", "rationale"]
    list_filter = ["table", "modifier_indicator"]
    search_fields = ["column1", "column2"]
    readonly_fields = [field.name for field in NcciEdit._meta.fields]
