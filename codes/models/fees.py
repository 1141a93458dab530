"""Fee schedules: releases of CMS payment files and their rows, conversion factors by date.

Rows key on the code as text (dotless, upper) plus modifier, not on a catalog row, so fee imports
never depend on catalog imports. Amounts are not stored: `codes.pricing` computes them from the inputs.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class FeeRelease(models.Model):
    """One imported CMS payment file (a year's or quarter's release of one kind)."""

    class Kind(models.TextChoices):
        PHYSICIAN = "pfs", "Physician fee schedule (RVU file)"
        GPCI = "gpci", "GPCIs by locality"
        ASC_AA = "asc_aa", "ASC Addendum AA (surgical procedures)"
        ASC_BB = "asc_bb", "ASC Addendum BB (ancillary services)"
        OPPS = "opps", "OPPS Addendum B"
        DMEPOS = "dmepos", "DMEPOS fee schedule"
        ASP = "asp", "ASP drug pricing"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (not used for lookups)"
        PUBLISHED = "published", "Published"

    kind = models.CharField(max_length=8, choices=Kind)
    year = models.PositiveSmallIntegerField()
    label = models.CharField("quarter", max_length=32, help_text='Release label such as "2022 January".')
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="Set when a later release of the same kind is loaded; empty: still in force."
    )
    source_name = models.CharField("source file", max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status, default=Status.PUBLISHED)
    row_count = models.PositiveIntegerField(default=0)
    extract = models.BooleanField(
        default=False, help_text="Loaded from a partial extract (the starter data): a complete file of the release replaces it."
    )
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "effective_from"], name="fee_release_one_per_kind_and_date")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.label}"


class ConversionFactor(models.Model):
    """A conversion factor in force over a date range (2024 has two physician CFs), with labor share."""

    class Kind(models.TextChoices):
        PHYSICIAN = "physician", "Physician (PFS)"
        ANESTHESIA = "anesthesia", "Anesthesia"
        ASC = "asc", "ASC"
        OPPS = "opps", "OPPS"

    kind = models.CharField(max_length=12, choices=Kind)
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Last day in force; empty: open-ended.")
    value = models.DecimalField(max_digits=9, decimal_places=4)
    budget_neutrality_adjustor = models.DecimalField(
        max_digits=6, decimal_places=4, default=1, help_text="Only 2007 (0.8994) and 2008 (0.8806) differ from 1."
    )
    labor_share = models.DecimalField(
        max_digits=5, decimal_places=4, null=True, blank=True, help_text="Wage-adjusted share (ASC 0.50, OPPS 0.60)."
    )
    source = models.CharField(max_length=255, blank=True, help_text="Where the value was published.")

    class Meta:
        ordering = ["kind", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "effective_from"], name="conversion_factor_one_per_kind_and_date"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="conversion_factor_range_ordered",
            ),
        ]

    def __str__(self):
        end = self.effective_to.isoformat() if self.effective_to else "open"
        return f"{self.get_kind_display()} {self.value} ({self.effective_from.isoformat()} to {end})"


class PhysicianFee(models.Model):
    """One (code, modifier) row of the RVU file; the NA indicators are flags, never zero amounts."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="physician_rows")
    code = models.CharField(max_length=5, db_index=True)
    modifier = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=100, blank=True)
    status_code = models.CharField(max_length=1)
    not_used_for_medicare = models.CharField(max_length=1, blank=True)
    work_rvu = models.DecimalField(max_digits=7, decimal_places=2)
    non_facility_pe_rvu = models.DecimalField(max_digits=7, decimal_places=2)
    non_facility_na = models.BooleanField(default=False)
    facility_pe_rvu = models.DecimalField(max_digits=7, decimal_places=2)
    facility_na = models.BooleanField(default=False)
    mp_rvu = models.DecimalField(max_digits=7, decimal_places=2)
    non_facility_total = models.DecimalField(max_digits=7, decimal_places=2)
    facility_total = models.DecimalField(max_digits=7, decimal_places=2)
    pctc_indicator = models.CharField("PC/TC indicator", max_length=1, blank=True)
    global_days = models.CharField(max_length=3, blank=True)
    pre_op = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    intra_op = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    post_op = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    multiple_procedure = models.CharField(max_length=1, blank=True)
    bilateral_surgery = models.CharField(max_length=1, blank=True)
    assistant_surgery = models.CharField(max_length=1, blank=True)
    co_surgeons = models.CharField(max_length=1, blank=True)
    team_surgery = models.CharField(max_length=1, blank=True)
    endoscopic_base = models.CharField(max_length=5, blank=True)
    file_conversion_factor = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    physician_supervision = models.CharField(max_length=2, blank=True)
    calculation_flag = models.CharField(max_length=2, blank=True)
    diagnostic_imaging_family = models.CharField(max_length=2, blank=True)
    opps_non_facility_pe = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    opps_facility_pe = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    opps_mp = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    line = models.PositiveIntegerField(help_text="Line (or sheet row) in the source file.")

    class Meta:
        ordering = ["code", "modifier"]
        constraints = [models.UniqueConstraint(fields=["release", "code", "modifier"], name="physician_fee_unique_row")]

    def __str__(self):
        return f"{self.code}{'-' + self.modifier if self.modifier else ''}"


class Locality(models.Model):
    """One MAC + locality with its three GPCIs for one GPCI release."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="localities")
    mac = models.CharField("MAC", max_length=5)
    state = models.CharField(max_length=2)
    number = models.CharField("locality number", max_length=2)
    name = models.CharField(max_length=100)
    footnote = models.CharField(max_length=4, blank=True, help_text="Floor markers from the file (* Alaska, ** frontier).")
    work_gpci = models.DecimalField(max_digits=5, decimal_places=3)
    pe_gpci = models.DecimalField(max_digits=5, decimal_places=3)
    mp_gpci = models.DecimalField(max_digits=5, decimal_places=3)
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["state", "mac", "number"]
        verbose_name_plural = "localities"
        constraints = [models.UniqueConstraint(fields=["release", "mac", "number"], name="locality_unique_per_release")]

    def __str__(self):
        return f"{self.key} {self.name}"

    @property
    def key(self) -> str:
        return f"{self.mac}-{self.number}"


class AscRate(models.Model):
    """One code of ASC Addendum AA or BB for a quarter: indicator, discount flag, weight, national rate."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="asc_rows")
    code = models.CharField(max_length=5, db_index=True)
    short_descriptor = models.CharField(max_length=100, blank=True)
    payment_indicator = models.CharField(max_length=2)
    multiple_procedure_discount = models.BooleanField(
        null=True, blank=True, help_text="Addendum AA only; Addendum BB has no such column."
    )
    payment_weight = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    payment_rate = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pass_through_expiration = models.CharField(max_length=32, blank=True)
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["code"]
        verbose_name = "ASC rate"
        constraints = [models.UniqueConstraint(fields=["release", "code"], name="asc_rate_unique_row")]

    def __str__(self):
        return f"{self.code} {self.payment_indicator}"


class OppsRate(models.Model):
    """One code of OPPS Addendum B for a quarter."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="opps_rows")
    code = models.CharField(max_length=5, db_index=True)
    short_descriptor = models.CharField(max_length=100, blank=True)
    status_indicator = models.CharField(max_length=2)
    apc = models.CharField("APC", max_length=5, blank=True)
    relative_weight = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # As published: some drug rates carry fractions of a cent (135.593, 8.6401); pricing rounds once, after units.
    payment_rate = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    national_copayment = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    minimum_copayment = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pass_through_expiration = models.CharField(max_length=32, blank=True)
    changed = models.BooleanField(default=False, help_text="Marked '*' (changed) in the file.")
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["code"]
        verbose_name = "OPPS rate"
        constraints = [models.UniqueConstraint(fields=["release", "code"], name="opps_rate_unique_row")]

    def __str__(self):
        return f"{self.code} {self.status_indicator}"


class AspPrice(models.Model):
    """One drug of the quarterly ASP pricing file; the payment limit already includes the +6%."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="asp_rows")
    code = models.CharField(max_length=5, db_index=True)
    short_description = models.CharField(max_length=100, blank=True)
    dosage = models.CharField("HCPCS code dosage", max_length=64, blank=True)
    payment_limit = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    coinsurance_percentage = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    vaccine_awp_percentage = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    vaccine_limit = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    blood_awp_percentage = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    blood_limit = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    clotting_factor = models.CharField(max_length=8, blank=True)
    notes = models.TextField(blank=True)
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["code"]
        verbose_name = "ASP price"
        constraints = [models.UniqueConstraint(fields=["release", "code"], name="asp_price_unique_row")]

    def __str__(self):
        return f"{self.code} {self.payment_limit}"


class DmeposFee(models.Model):
    """One DMEPOS fee: code + modifiers for one state, non-rural and rural amounts."""

    release = models.ForeignKey(FeeRelease, on_delete=models.CASCADE, related_name="dmepos_rows")
    code = models.CharField(max_length=5, db_index=True)
    modifier = models.CharField(max_length=2, blank=True)
    modifier2 = models.CharField(max_length=2, blank=True)
    jurisdiction = models.CharField(max_length=1, blank=True, help_text="D DME MAC, L local A/B MAC, J joint.")
    category = models.CharField(max_length=2, blank=True, help_text="IN, FS, CR, OX, OS, SD, PO, SU, TE, TS.")
    ceiling = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    floor = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=2)
    non_rural_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    rural_fee = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    line = models.PositiveIntegerField()

    class Meta:
        ordering = ["code", "modifier", "modifier2", "state"]
        verbose_name = "DMEPOS fee"
        constraints = [
            models.UniqueConstraint(fields=["release", "code", "modifier", "modifier2", "state"], name="dmepos_fee_unique_row")
        ]

    def __str__(self):
        return f"{self.code} {self.modifier} {self.state}"
