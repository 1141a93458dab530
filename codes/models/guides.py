"""Coding and payment guides as data, the coding rules the claim check applies, and NCCI PTP edits.

A guide holds only structure and words (sections, code entries, group labels, notes); every figure
on a guide page is computed from the fee schedules loaded for the year and locality asked for.
"""

from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords


class GuideQuerySet(models.QuerySet):
    def published(self):
        """Keep the guides readers may see (drafts are for the reimbursement team)."""
        return self.filter(status=Guide.Status.PUBLISHED)


class Guide(models.Model):
    """One coding and payment guide, e.g. intrathecal drug delivery."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=80, unique=True)
    therapy = models.CharField(max_length=120, help_text="The therapy the guide covers, e.g. intrathecal drug delivery.")
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    disclaimer = models.TextField(help_text="Printed on every page of the guide.")
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = GuideQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("codes:guide_latest", kwargs={"slug": self.slug})


class GuideSection(models.Model):
    """An ordered table of a guide; its kind decides which figures the page computes."""

    class Kind(models.TextChoices):
        DIAGNOSES = "diagnoses", "ICD-10-CM diagnosis codes"
        PHYSICIAN = "physician", "Physician (office / facility)"
        HCPCS = "hcpcs", "HCPCS Level II devices and drugs"
        ASC = "asc", "Ambulatory surgical center"
        HOSPITAL_OUTPATIENT = "hospital_outpatient", "Hospital outpatient"

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField(default=0, help_text="Sections are shown in this order.")
    kind = models.CharField(max_length=24, choices=Kind)
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["guide", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["guide", "kind"], name="unique_guide_section_kind")]

    def __str__(self):
        return f"{self.guide}: {self.title}"


class GuideEntry(models.Model):
    """One line of a section: a code or a code range, in a group, with an optional note."""

    section = models.ForeignKey(GuideSection, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveSmallIntegerField(default=0)
    group = models.CharField(max_length=120, blank=True, help_text='Rows with the same label print together, e.g. "Trial".')
    code_text = models.CharField(
        "code or range", max_length=40, help_text="As coders write it: 62322, G89.29, G89.2 - G89.29 or C00-C14."
    )
    label = models.CharField(max_length=200, blank=True, help_text="What the guide calls it; blank shows the code's descriptor.")
    note = models.CharField(max_length=300, blank=True, help_text='Printed next to the row, e.g. "ASP+6%".')
    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "position", "id"]
        verbose_name_plural = "guide entries"

    def __str__(self):
        return self.code_text

    @property
    def is_range(self) -> bool:
        return "-" in self.code_text.strip("-")


class GuideNote(models.Model):
    """A note printed under a section, or under one group of it when the group is named."""

    section = models.ForeignKey(GuideSection, on_delete=models.CASCADE, related_name="notes")
    group = models.CharField(max_length=120, blank=True, help_text="Blank: the note belongs to the whole section.")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["section", "position", "id"]

    def __str__(self):
        return self.text[:60]


class CodingRule(models.Model):
    """A guide note the claim check can apply, written as data.

    Code patterns are comma-separated: `G89` or `G56.4-` (that code and every code below it), or a range
    `G89.2 - G89.29`. `not_with`: a diagnosis matching `codes` reported with one matching `other_codes`
    is a finding. `confirm`: a diagnosis matching `codes` asks the coder to confirm the documentation.
    """

    class Kind(models.TextChoices):
        NOT_WITH = "not_with", "Not reported together"
        CONFIRM = "confirm", "Needs documentation (confirmation prompt)"

    class Severity(models.TextChoices):
        ERROR = "error", "Error"
        WARNING = "warning", "Warning"
        INFO = "info", "Information"

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="rules")
    note = models.ForeignKey(
        GuideNote, null=True, blank=True, on_delete=models.SET_NULL, related_name="rules", help_text="The guide note it checks."
    )
    name = models.CharField(max_length=120, unique=True, help_text="Stable identifier, e.g. g89-not-with-crps.")
    kind = models.CharField(max_length=16, choices=Kind)
    severity = models.CharField(max_length=8, choices=Severity, default=Severity.ERROR)
    codes = models.CharField(max_length=200, help_text="Code patterns the rule applies to.")
    other_codes = models.CharField(max_length=200, blank=True, help_text="For not_with: the codes they conflict with.")
    message = models.CharField(max_length=300)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["guide", "name"]

    def __str__(self):
        return self.name


class NcciEdit(models.Model):
    """One NCCI procedure-to-procedure edit row: column 2 is denied with column 1 unless a modifier applies."""

    class Table(models.TextChoices):
        PRACTITIONER = "practitioner", "Practitioner"
        HOSPITAL = "hospital", "Outpatient hospital"

    class ModifierIndicator(models.TextChoices):
        NOT_ALLOWED = "0", "0: no modifier bypasses the edit"
        ALLOWED = "1", "1: an NCCI-associated modifier bypasses the edit"
        NOT_APPLICABLE = "9", "9: not applicable (edit deleted)"

    table = models.CharField(max_length=16, choices=Table, default=Table.PRACTITIONER)
    column1 = models.CharField("column 1 code", max_length=5)
    column2 = models.CharField("column 2 code", max_length=5)
    existed_before_1996 = models.BooleanField(default=False)
    effective_from = models.DateField()
    deleted_on = models.DateField(null=True, blank=True, help_text="Blank: not deleted ('*' in the file).")
    modifier_indicator = models.CharField(max_length=1, choices=ModifierIndicator)
    rationale = models.CharField(max_length=200, blank=True)
    source_name = models.CharField(max_length=255, blank=True, help_text="The file this row came from.")

    class Meta:
        ordering = ["table", "column1", "column2", "effective_from"]
        verbose_name = "NCCI PTP edit"
        constraints = [
            models.UniqueConstraint(fields=["table", "column1", "column2", "effective_from"], name="unique_ncci_edit_window"),
        ]
        indexes = [models.Index(fields=["column1", "column2"], name="ncci_pair_idx")]

    def __str__(self):
        return f"{self.column1}/{self.column2} from {self.effective_from}"
