from django.contrib import admin

from codes.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["source_name", "kind", "status", "progress", "created_by", "created_at"]
    list_filter = ["status", "kind"]
    search_fields = ["source_name", "sha256", "message"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
