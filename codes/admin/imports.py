"""Imports in the admin: every run with its provenance and change report, and the upload page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from codes.importers import jobs
from codes.models import ImportRun


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        return [single(item, initial) for item in data] if isinstance(data, list | tuple) else [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text="CMS/NCHS files or CMS zip archives. Files of one release go together, e.g. an ICD-10-CM order file "
        "(or code list) with its tabular XML."
    )
    dry_run = forms.BooleanField(required=False, help_text="Report what would change; write nothing.")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["source_name", "kind", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["status", "kind", "dry_run"]
    search_fields = ["source_name", "sha256", "message"]
    readonly_fields = [f.name for f in ImportRun._meta.fields] + ["change_report"]
    fieldsets = [
        (None, {"fields": ["source_name", "kind", "status", "progress", "dry_run", "message", "change_report"]}),
        (
            "Provenance",
            {"classes": ["collapse"], "fields": ["stored_file", "sha256", "created_by", "created_at", "finished_at", "report"]},
        ),
    ]

    def has_add_permission(self, request):
        return False  # runs are created by the upload page and by import_data

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Change report")
    def change_report(self, run):
        results = (run.report or {}).get("results", [])
        if not results:
            return "-"
        blocks = []
        for result in results:
            counts = format_html_join(", ", "{} {}", ((key, f"{value:,}") for key, value in result["counts"].items()))
            reports = result["report"].values() if result["kind"] == "hcpcs-descriptors" else [result["report"]]
            lists = []
            for report in reports:
                for key in ("added", "ended", "removed", "billable_to_header", "header_to_billable"):
                    codes = report.get(key) or []
                    if codes:
                        # The stored list is capped; the counts hold the real total.
                        counts_of = result["counts"]
                        total = counts_of.get(key, counts_of.get(f"{report.get('system')} {key}", len(codes)))
                        shown = ", ".join(codes[:60]) + (f" … ({total:,} in all)" if total > 60 else "")
                        lists.append(format_html("<li><strong>{}</strong>: {}</li>", key.replace("_", " "), shown))
                changed = report.get("changed") or []
                if changed:
                    shown = "; ".join(_changed_row(c) for c in changed[:20])
                    lists.append(format_html("<li><strong>changed</strong>: {}{}</li>", shown, " …" if len(changed) > 20 else ""))
            blocks.append(
                format_html(
                    "<p><strong>{}</strong> ({}): {}</p><ul>{}</ul>",
                    result["release"] or result["source"],
                    result["kind"],
                    counts,
                    format_html_join("", "{}", ((item,) for item in lists)),
                )
            )
        return format_html_join("", "{}", ((block,) for block in blocks))

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="codes_importrun_upload"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "upload_url": reverse("admin:codes_importrun_upload")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        running = run is not None and run.status in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "auto_refresh": running})

    def upload_view(self, request):
        """Upload CMS files; the import runs in the background worker and this run's page shows its progress."""
        if not request.user.has_perm("codes.run_import"):
            raise PermissionDenied("Only the reimbursement team runs imports.")
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            run = jobs.create_run(files=form.cleaned_data["files"], user=request.user, dry_run=form.cleaned_data["dry_run"])
            jobs.run_uploaded_import.enqueue(run.pk)
            messages.info(request, f"{run.source_name}: queued. This page refreshes until the import is done.")
            return redirect("admin:codes_importrun_change", run.pk)
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import CMS files", "opts": self.model._meta}
        return TemplateResponse(request, "admin/codes/importrun/upload.html", context)


def _changed_row(change: dict) -> str:
    """Return one changed row of a change report as text.

    The catalog reports {"code", field: {"from", "to"}}; the fee schedules {"key", "fields": {field: [old, new]}}.
    """
    if "fields" in change:
        return f"{change['key']}: " + ", ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in change["fields"].items())
    return f"{change['code']}: " + ", ".join(f"{k} {v['from']!r} → {v['to']!r}" for k, v in change.items() if k != "code")
