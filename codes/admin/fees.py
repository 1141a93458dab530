"""Fee-schedule admin: releases with provenance (publish/unpublish), conversion factors, read-only rows.

Rows come only from imports (`import_data` or the import upload); the team edits conversion factors and
a release's status, never a payment row by hand.
"""

import csv

from django.contrib import admin, messages
from django.http import HttpResponse

from codes.models import AscRate, AspPrice, ConversionFactor, DmeposFee, FeeRelease, Locality, OppsRate, PhysicianFee


@admin.action(description="Export selected rows as CSV")
def export_csv(modeladmin, request, queryset):
    """Return the selected rows with every field, as the admin shows them."""
    fields = [f.name for f in queryset.model._meta.fields]
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{queryset.model._meta.model_name}.csv"'
    writer = csv.writer(response)
    writer.writerow(fields)
    for row in queryset.iterator(chunk_size=2000):
        writer.writerow([getattr(row, f"{name}_id" if name == "release" else name) for name in fields])
    return response


@admin.register(FeeRelease)
class FeeReleaseAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "kind",
        "year",
        "effective_from",
        "effective_to",
        "status",
        "row_count",
        "source_name",
        "imported_at",
    ]
    list_filter = ["kind", "status", "year"]
    search_fields = ["source_name", "sha256", "label"]
    ordering = ["kind", "-effective_from"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["kind", "year", "label", "status"]}),
        ("In force", {"fields": ["effective_from", "effective_to"]}),
        ("Provenance", {"fields": ["source_name", "sha256", "row_count", "imported_by", "imported_at"]}),
    ]
    readonly_fields = [
        "kind",
        "year",
        "label",
        "effective_from",
        "effective_to",
        "source_name",
        "sha256",
        "row_count",
        "imported_by",
        "imported_at",
    ]

    def has_add_permission(self, request):
        return False  # releases are created by importing a CMS file

    @admin.action(description="Publish: use for lookups and estimates", permissions=["change"])
    def publish(self, request, queryset):
        count = queryset.update(status=FeeRelease.Status.PUBLISHED)
        self.message_user(request, f"{count} release(s) published.", messages.SUCCESS)

    @admin.action(description="Unpublish (draft): hide from lookups and estimates", permissions=["change"])
    def unpublish(self, request, queryset):
        count = queryset.update(status=FeeRelease.Status.DRAFT)
        self.message_user(request, f"{count} release(s) set to draft.", messages.SUCCESS)


@admin.register(ConversionFactor)
class ConversionFactorAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "effective_from", "effective_to", "labor_share", "budget_neutrality_adjustor", "source"]
    list_filter = ["kind"]
    ordering = ["kind", "-effective_from"]


class ReadOnlyRows(admin.ModelAdmin):
    """Imported rows: searchable and exportable, never edited by hand."""

    list_select_related = ["release"]
    show_full_result_count = False  # a year of RVU rows is 17,000+; skip the second COUNT
    actions = [export_csv]
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PhysicianFee)
class PhysicianFeeAdmin(ReadOnlyRows):
    list_display = [
        "code",
        "modifier",
        "description",
        "status_code",
        "work_rvu",
        "non_facility_pe_rvu",
        "non_facility_na",
        "facility_pe_rvu",
        "facility_na",
        "mp_rvu",
        "non_facility_total",
        "facility_total",
        "global_days",
        "release",
    ]
    list_filter = ["release", "status_code", "non_facility_na", "facility_na", "pctc_indicator", "global_days"]
    search_fields = ["=code", "description"]


@admin.register(Locality)
class LocalityAdmin(ReadOnlyRows):
    list_display = ["mac", "number", "state", "name", "footnote", "work_gpci", "pe_gpci", "mp_gpci", "release"]
    list_filter = ["release", "state"]
    search_fields = ["name", "=mac", "=state"]


@admin.register(AscRate)
class AscRateAdmin(ReadOnlyRows):
    list_display = [
        "code",
        "short_descriptor",
        "payment_indicator",
        "multiple_procedure_discount",
        "payment_weight",
        "payment_rate",
        "release",
    ]
    list_filter = ["release", "payment_indicator", "multiple_procedure_discount"]
    search_fields = ["=code", "short_descriptor"]


@admin.register(OppsRate)
class OppsRateAdmin(ReadOnlyRows):
    list_display = [
        "code",
        "short_descriptor",
        "status_indicator",
        "apc",
        "relative_weight",
        "payment_rate",
        "national_copayment",
        "release",
    ]
    list_filter = ["release", "status_indicator"]
    search_fields = ["=code", "short_descriptor", "=apc"]


@admin.register(AspPrice)
class AspPriceAdmin(ReadOnlyRows):
    list_display = ["code", "short_description", "dosage", "payment_limit", "coinsurance_percentage", "release"]
    list_filter = ["release"]
    search_fields = ["=code", "short_description"]


@admin.register(DmeposFee)
class DmeposFeeAdmin(ReadOnlyRows):
    list_display = [
        "code",
        "modifier",
        "modifier2",
        "state",
        "category",
        "non_rural_fee",
        "rural_fee",
        "ceiling",
        "floor",
        "release",
    ]
    list_filter = ["release", "category", "state", "jurisdiction"]
    search_fields = ["=code"]
