"""The code catalog: ICD-10-CM, CPT and HCPCS Level II codes, their releases and per-release versions.

A `Code` is one (system, code) pair, stored dotless and upper case, with the descriptors of its latest
release copied onto it so search reads one table. What a code said and whether it was valid on a date
lives in `CodeVersion`, one row per code per `Release`; a code missing from a newer release keeps its
old versions, whose `effective_to` is the day before that release took effect.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


class CodeSystem(models.TextChoices):
    ICD10CM = "icd10cm", "ICD-10-CM"
    CPT = "cpt", "CPT (HCPCS Level I)"
    HCPCS = "hcpcs", "HCPCS Level II"


def normalize_code(text: str) -> str:
    """Return a code as stored: no dot, no spaces, upper case."""
    return "".join(text.split()).replace(".", "").upper()


def display_code(system: str, code: str) -> str:
    """Return a code the way coders write it: ICD-10-CM with a dot after the third character."""
    if system == CodeSystem.ICD10CM and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


class ReleaseQuerySet(models.QuerySet):
    def of(self, system: str) -> ReleaseQuerySet:
        return self.filter(system=system)

    def effective_on(self, day: datetime.date) -> ReleaseQuerySet:
        """Keep releases in force on `day`: effective_from <= day and effective_to null or >= day."""
        return self.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day), effective_from__lte=day)


class Release(models.Model):
    """One release of a code system (e.g. ICD-10-CM "FY2021", CPT "2022 January") and its provenance."""

    system = models.CharField(max_length=8, choices=CodeSystem)
    label = models.CharField(max_length=40, help_text='e.g. "FY2021", "FY2025 April", "2022 January".')
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="The day before the next loaded release of the system took effect; empty while current."
    )
    source_files = models.TextField(blank=True, help_text="The files this release was loaded from, one per line.")
    sha256 = models.TextField(blank=True, help_text="sha256 of each source file, one per line.")
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    loaded_at = models.DateTimeField(auto_now=True)
    extract = models.BooleanField(
        default=False,
        help_text="Loaded from a partial extract (the starter data): it never ends codes, and complete files replace it.",
    )
    counts = models.JSONField(default=dict, blank=True, help_text="Codes, billable and header counts.")
    report = models.JSONField(default=dict, blank=True, help_text="Added/changed/ended/unchanged against the previous release.")

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["system", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["system", "label"], name="unique_release_label"),
            models.UniqueConstraint(fields=["system", "effective_from"], name="unique_release_start"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_from__lte=models.F("effective_to")),
                name="release_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.get_system_display()} {self.label}"


class Chapter(models.Model):
    """An ICD-10-CM chapter (e.g. 6 "Diseases of the nervous system (G00-G99)") and its notes."""

    number = models.PositiveSmallIntegerField(unique=True)
    description = models.CharField(max_length=255)
    first = models.CharField(max_length=8, blank=True)
    last = models.CharField(max_length=8, blank=True)
    notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self):
        return f"Chapter {self.number}: {self.description}"


class Section(models.Model):
    """An ICD-10-CM block of categories (e.g. "G89-G99"), as in the tabular list."""

    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="sections")
    range_id = models.CharField("range", max_length=16, unique=True, help_text='e.g. "G89-G99" or "B10".')
    description = models.CharField(max_length=255)
    first = models.CharField(max_length=8)
    last = models.CharField(max_length=8)
    notes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["first"]

    def __str__(self):
        return f"{self.range_id} {self.description}"


class CodeQuerySet(models.QuerySet):
    def of(self, system: str | None) -> CodeQuerySet:
        return self.filter(system=system) if system else self

    def valid_on(self, day: datetime.date) -> CodeQuerySet:
        """Keep codes that have a version in force on `day`."""
        return self.filter(models.Exists(CodeVersion.objects.effective_on(day).filter(code=models.OuterRef("pk"))))

    def billable_on(self, day: datetime.date) -> CodeQuerySet:
        """Keep codes whose version in force on `day` is billable."""
        return self.filter(models.Exists(CodeVersion.objects.effective_on(day).filter(code=models.OuterRef("pk"), billable=True)))


class Code(models.Model):
    """One code of one system; descriptors and flags are those of its latest release."""

    system = models.CharField(max_length=8, choices=CodeSystem)
    code = models.CharField(max_length=8, help_text="Without the dot, upper case (as in CMS files and claims).")
    short_description = models.CharField(max_length=100, blank=True)
    long_description = models.TextField(blank=True)
    billable = models.BooleanField(
        default=True, help_text="Valid for claims in its latest release; ICD-10-CM headers (categories) are not."
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    section = models.ForeignKey(Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="codes")
    search_text = models.TextField(blank=True, help_text="Descriptors and inclusion terms, for word search.")
    first_effective = models.DateField(null=True, blank=True)
    last_effective = models.DateField(null=True, blank=True, help_text="Empty while in the latest release.")

    objects = CodeQuerySet.as_manager()

    class Meta:
        ordering = ["system", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="unique_code")]
        indexes = [models.Index(fields=["code"], name="code_code_idx")]

    def __str__(self):
        return f"{self.display} {self.short_description or self.long_description}"

    def get_absolute_url(self):
        return reverse("codes:code_detail", kwargs={"system": self.system, "code": self.code})

    @property
    def display(self) -> str:
        return display_code(self.system, self.code)

    @property
    def is_header(self) -> bool:
        return not self.billable

    @property
    def description(self) -> str:
        return self.long_description or self.short_description


class SearchWord(models.Model):
    """A word of the catalog's search text: misspelt query words are matched against these (pg_trgm, codes/search.py)."""

    word = models.CharField(max_length=40, primary_key=True)

    class Meta:
        ordering = ["word"]

    def __str__(self):
        return self.word


class CodeVersionQuerySet(models.QuerySet):
    def effective_on(self, day: datetime.date) -> CodeVersionQuerySet:
        """Keep versions in force on `day`: effective_from <= day and effective_to null or >= day."""
        return self.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day), effective_from__lte=day)


class CodeVersion(models.Model):
    """What one release says about one code: descriptors, billable or header, and its tabular notes.

    `notes` maps a kind (includes, inclusion_terms, excludes1, excludes2, code_first, use_additional_code,
    code_also, seventh_character_note) to a list of {"text": ..., "cited": [[low, high], ...]}; `cited` holds the
    dotless code bounds parsed from the text, e.g. "(G57.7-)" -> [["G577", "G577"]]. `seventh_characters` maps
    a 7th character to its meaning where this code defines them (ICD-10-CM sevenChrDef).
    """

    NOTE_KINDS = [
        ("includes", "Includes"),
        ("inclusion_terms", "Inclusion terms"),
        ("excludes1", "Excludes1"),
        ("excludes2", "Excludes2"),
        ("code_first", "Code first"),
        ("use_additional_code", "Use additional code"),
        ("code_also", "Code also"),
        ("seventh_character_note", "Seventh character"),
    ]

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="versions")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="versions")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    short_description = models.CharField(max_length=100, blank=True)
    long_description = models.TextField(blank=True)
    billable = models.BooleanField()
    source = models.CharField(max_length=32, blank=True, help_text="The file format the descriptors came from, e.g. pprrvu.")
    notes = models.JSONField(default=dict, blank=True)
    seventh_characters = models.JSONField(default=dict, blank=True)

    objects = CodeVersionQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "release"], name="unique_code_version"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_from__lte=models.F("effective_to")),
                name="version_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["effective_from", "effective_to"], name="codeversion_dates_idx")]

    def __str__(self):
        return f"{self.code.display} ({self.release.label})"

    @property
    def is_header(self) -> bool:
        return not self.billable

    @property
    def description(self) -> str:
        return self.long_description or self.short_description

    def notes_of(self, kind: str) -> list[dict]:
        return self.notes.get(kind, [])
