"""The code catalog in the admin: releases with provenance and change report, codes with their versions."""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils.html import format_html

from codes.models import Chapter, Code, CodeVersion, Release, Section


@admin.action(description="Export selected to CSV")
def export_csv(modeladmin, request, queryset):
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="codes.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["system", "code", "display", "billable", "short_description", "long_description", "first_effective", "last_effective"]
    )
    for code in queryset.order_by("system", "code"):
        writer.writerow(
            [
                code.system,
                code.code,
                code.display,
                code.billable,
                code.short_description,
                code.long_description,
                code.first_effective,
                code.last_effective or "",
            ]
        )
    return response


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "effective_from", "effective_to", "code_count", "loaded_by", "loaded_at"]
    list_filter = ["system"]
    readonly_fields = [f.name for f in Release._meta.fields]
    fieldsets = [
        (None, {"fields": ["system", "label", "effective_from", "effective_to", "counts", "report"]}),
        ("Provenance", {"classes": ["collapse"], "fields": ["source_files", "sha256", "loaded_by", "loaded_at"]}),
    ]

    def has_add_permission(self, request):
        return False  # releases come from imports

    @admin.display(description="codes")
    def code_count(self, release):
        return f"{release.counts.get('codes', 0):,}"


class CodeVersionInline(admin.TabularInline):
    model = CodeVersion
    fields = ["release", "effective_from", "effective_to", "billable", "short_description", "long_description", "source"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-effective_from"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["display", "system", "short_description", "billable", "first_effective", "last_effective", "page"]
    list_filter = ["system", "billable", ("last_effective", admin.EmptyFieldListFilter)]
    search_fields = ["code", "short_description", "long_description"]
    fields = [
        "system",
        "code",
        "short_description",
        "long_description",
        "billable",
        "parent",
        "section",
        "first_effective",
        "last_effective",
    ]
    readonly_fields = fields  # codes change only through imports, so every release stays traceable
    list_select_related = True
    inlines = [CodeVersionInline]
    actions = [export_csv]
    show_full_result_count = False  # counting 200k rows on every page load is slow and useless

    def get_search_results(self, request, queryset, search_term):
        # "G89.29" finds G8929: codes are stored without the dot.
        return super().get_search_results(
            request, queryset, search_term.replace(".", "") if len(search_term) < 9 else search_term
        )

    @admin.display(description="page")
    def page(self, code):
        return format_html('<a href="{}">view</a>', code.get_absolute_url())


@admin.register(Chapter)
class ChapterAdmin(admin.ModelAdmin):
    list_display = ["number", "description", "first", "last"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["range_id", "description", "chapter"]
    list_filter = ["chapter"]
    search_fields = ["range_id", "description"]
