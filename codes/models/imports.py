from django.conf import settings
from django.db import models


class ImportRun(models.Model):
    """One run of `import_data` or of the admin upload: provenance, progress and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        DRY_RUN = "dry_run", "Dry run (nothing written)"

    source_name = models.CharField("file name", max_length=255)
    stored_file = models.FileField(upload_to="imports/%Y/%m/", blank=True, help_text="The uploaded file, kept as received.")
    sha256 = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=64, blank=True, help_text="The file format recognised, e.g. icd10cm-order.")
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)
    dry_run = models.BooleanField(default=False)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.TextField(blank=True, help_text="Summary, or the error naming file, line and column.")
    report = models.JSONField(default=dict, blank=True, help_text="Counts and the change report against the previous release.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "import"
        permissions = [("run_import", "Can run CMS file imports")]

    def __str__(self):
        return f"{self.source_name} ({self.get_status_display()})"
