"""Payment API: physician (PFS), ASC and OPPS amounts by code, localities, and payment estimates.

GET /api/v1/fees/physician/?code=&year=&locality=&date=   one object per (code, modifier) row
GET /api/v1/fees/asc/?code=&year=&date=                    ASC Addendum AA/BB row
GET /api/v1/fees/opps/?code=&year=&date=                   OPPS Addendum B row
GET /api/v1/fees/localities/?year=                         localities (MAC-LOCALITY keys) for pickers
GET /api/v1/fees/compare/?code=&year_a=&year_b=&locality=  what changed between two years
POST /api/v1/estimates/                                    setting, date of service, locality, lines
Amounts are decimal strings with cents, null when not payable or N/A (the reason says why).
GET lookups answer 404 for a year, date or locality that is not loaded; POST bodies are input, so the
same unknown year, date or locality there is a 400 (as in POST /api/v1/claim-checks/).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from codes import pricing
from reimbursement.access import LookupPermission

MAX_CODES = 50


class CentsField(serializers.DecimalField):
    """A dollar amount as a decimal string with cents, rounded by codes.pricing (an OPPS drug rate has a tenth of a cent)."""

    def to_representation(self, value):
        return super().to_representation(pricing.round_dollars(value))


def money(**kwargs):
    return CentsField(max_digits=12, decimal_places=2, allow_null=True, **kwargs)


class ExplanationSerializer(serializers.Serializer):
    inputs = serializers.DictField(child=serializers.CharField())
    arithmetic = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()


class FeeQuerySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=400, help_text="One code, or several separated by commas (at most 50).")
    year = serializers.IntegerField(required=False, min_value=1990, max_value=2100)
    date = serializers.DateField(required=False, help_text="Date of service; picks the quarter and the conversion factor.")

    def validate_code(self, value):
        codes = [pricing.normalise_code(c) for c in value.split(",") if c.strip()]
        if not codes:
            raise serializers.ValidationError("Give at least one code.")
        if len(codes) > MAX_CODES:
            raise serializers.ValidationError(f"At most {MAX_CODES} codes per request.")
        bad = [c for c in codes if len(c) != 5 or not c.isalnum()]
        if bad:
            raise serializers.ValidationError(f"Not CPT/HCPCS codes (5 characters): {', '.join(bad)}.")
        return codes


class PhysicianQuerySerializer(FeeQuerySerializer):
    locality = serializers.CharField(
        max_length=16, default="national", help_text="'national' or MAC-LOCALITY as in the GPCI file, e.g. 02102-01."
    )

    def validate_locality(self, value):
        try:
            pricing.parse_locality(value)
        except pricing.PricingError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class PhysicianPaymentSerializer(serializers.Serializer):
    code = serializers.CharField()
    modifier = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    status_code = serializers.CharField()
    status_meaning = serializers.CharField(allow_blank=True)
    conversion_factor = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    non_facility_amount = money(help_text="Office (non-facility) amount; null when not payable or N/A.")
    facility_amount = money(help_text="Facility amount; null when not payable or N/A.")
    non_facility_na = serializers.BooleanField()
    facility_na = serializers.BooleanField()
    non_facility_rvu_total = serializers.DecimalField(max_digits=7, decimal_places=2)
    facility_rvu_total = serializers.DecimalField(max_digits=7, decimal_places=2)
    non_facility_non_par = money()
    facility_non_par = money()
    non_facility_limiting_charge = money()
    facility_limiting_charge = money()
    global_days = serializers.CharField(allow_blank=True)
    pctc_indicator = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    locality = serializers.CharField()
    locality_name = serializers.CharField()
    year = serializers.IntegerField()
    release = serializers.CharField()
    explanation = ExplanationSerializer()


class AscPaymentSerializer(serializers.Serializer):
    code = serializers.CharField()
    short_descriptor = serializers.CharField(allow_blank=True)
    payment_indicator = serializers.CharField()
    indicator_meaning = serializers.CharField()
    multiple_procedure_discount = serializers.BooleanField(allow_null=True)
    payment_weight = serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True)
    national_rate = money(help_text="Null when packaged (N1), contractor-priced or not paid; the reason says which.")
    reason = serializers.CharField(allow_blank=True)
    addendum = serializers.CharField()
    year = serializers.IntegerField()
    release = serializers.CharField()
    explanation = ExplanationSerializer()


class OppsPaymentSerializer(serializers.Serializer):
    code = serializers.CharField()
    short_descriptor = serializers.CharField(allow_blank=True)
    status_indicator = serializers.CharField()
    indicator_meaning = serializers.CharField()
    apc = serializers.CharField(allow_blank=True)
    relative_weight = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    payment_rate = money(help_text="Null when packaged or not paid under the OPPS; the reason says which.")
    national_copayment = money()
    minimum_copayment = money()
    reason = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField()
    release = serializers.CharField()
    explanation = ExplanationSerializer()


class LocalitySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="MAC-LOCALITY, e.g. 02102-01, or national.")
    mac = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    number = serializers.CharField(allow_blank=True)
    name = serializers.CharField()
    work_gpci = serializers.DecimalField(max_digits=5, decimal_places=3)
    pe_gpci = serializers.DecimalField(max_digits=5, decimal_places=3)
    mp_gpci = serializers.DecimalField(max_digits=5, decimal_places=3)


class EstimateLineSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10)
    modifiers = serializers.ListField(child=serializers.CharField(max_length=2), max_length=4, default=list)
    units = serializers.IntegerField(min_value=1, max_value=pricing.MAX_UNITS, default=1)

    def validate_code(self, value):
        code = pricing.normalise_code(value)
        if len(code) != 5 or not code.isalnum():
            raise serializers.ValidationError(f"{value!r} is not a CPT/HCPCS code (5 characters).")
        return code


class EstimateRequestSerializer(serializers.Serializer):
    setting = serializers.ChoiceField(choices=pricing.SETTINGS)
    date_of_service = serializers.DateField()
    locality = serializers.CharField(max_length=16, default="national")
    wage_index = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=0, max_value=5, required=False, allow_null=True
    )
    lines = EstimateLineSerializer(many=True, min_length=1, max_length=20)

    def validate_locality(self, value):
        try:
            pricing.parse_locality(value)
        except pricing.PricingError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class EstimatedLineSerializer(serializers.Serializer):
    code = serializers.CharField()
    modifiers = serializers.ListField(child=serializers.CharField())
    units = serializers.IntegerField()
    indicator = serializers.CharField(allow_blank=True, help_text="PFS status, ASC payment or OPPS status indicator.")
    unit_amount = serializers.CharField(allow_null=True)
    factor = serializers.CharField()
    amount = serializers.CharField(allow_null=True, help_text="Decimal string with cents; null when not payable.")
    discount = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    explanation = ExplanationSerializer()


class EstimateSerializer(serializers.Serializer):
    setting = serializers.CharField()
    date_of_service = serializers.DateField()
    locality = serializers.CharField()
    lines = EstimatedLineSerializer(many=True)
    total = serializers.CharField()
    medicare_pays = serializers.CharField()
    patient_coinsurance = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())


def _priced(function, *args, **kwargs):
    """Call a pricing function; unknown year/date/locality -> 404, malformed input -> 400, each with its message."""
    try:
        return function(*args, **kwargs)
    except pricing.NotLoaded as exc:
        raise exceptions.NotFound(str(exc)) from exc
    except pricing.PricingError as exc:
        raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc


def _checked(function, *args, **kwargs):
    """Call a pricing function for a POST body: anything it cannot price, an unloaded year included, is a 400."""
    try:
        return function(*args, **kwargs)
    except pricing.PricingError as exc:
        raise exceptions.ValidationError({"non_field_errors": [str(exc)]}) from exc


def _not_found(codes: list[str], what: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"{', '.join(codes)}: not in the {what} loaded for this year or date.")


class _FeeViewSet(viewsets.GenericViewSet):
    permission_classes = [LookupPermission]
    filter_backends: list = []
    query_serializer = FeeQuerySerializer

    def _query(self, request) -> dict:
        given = self.query_serializer(data=request.query_params)
        given.is_valid(raise_exception=True)
        return given.validated_data

    def _respond(self, items: list) -> Response:
        page = self.paginate_queryset(items)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _params(*extra: OpenApiParameter) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("code", OpenApiTypes.STR, required=True, description="CPT/HCPCS code(s), comma-separated."),
        OpenApiParameter("year", OpenApiTypes.INT, description="Calendar year of the release (default: latest)."),
        OpenApiParameter("date", OpenApiTypes.DATE, description="Date of service (picks quarter and conversion factor)."),
        *extra,
    ]


class PhysicianFeeViewSet(_FeeViewSet):
    """Medicare physician fee schedule amounts, office and facility, national or for a locality."""

    serializer_class = PhysicianPaymentSerializer
    query_serializer = PhysicianQuerySerializer

    @extend_schema(
        parameters=_params(
            OpenApiParameter("locality", OpenApiTypes.STR, description="'national' or MAC-LOCALITY, e.g. 02102-01.")
        ),
        responses=PhysicianPaymentSerializer(many=True),
    )
    def list(self, request):
        query = self._query(request)
        found = _priced(
            pricing.physician_payments, query["code"], year=query.get("year"), on=query.get("date"), locality=query["locality"]
        )
        if not found:
            raise _not_found(query["code"], "physician fee schedule")
        return self._respond([row for code in query["code"] for row in found.get(code, [])])


class AscFeeViewSet(_FeeViewSet):
    """ASC payment indicator, multiple-procedure discount flag, weight and national rate (Addenda AA/BB)."""

    serializer_class = AscPaymentSerializer

    @extend_schema(parameters=_params(), responses=AscPaymentSerializer(many=True))
    def list(self, request):
        query = self._query(request)
        found = _priced(pricing.asc_payments, query["code"], year=query.get("year"), on=query.get("date"))
        if not found:
            raise _not_found(query["code"], "ASC addenda (not on the ASC lists)")
        return self._respond([found[code] for code in query["code"] if code in found])


class OppsFeeViewSet(_FeeViewSet):
    """Hospital outpatient (OPPS) status indicator, APC, relative weight and payment rate (Addendum B)."""

    serializer_class = OppsPaymentSerializer

    @extend_schema(parameters=_params(), responses=OppsPaymentSerializer(many=True))
    def list(self, request):
        query = self._query(request)
        found = _priced(pricing.opps_payments, query["code"], year=query.get("year"), on=query.get("date"))
        if not found:
            raise _not_found(query["code"], "OPPS Addendum B")
        return self._respond([found[code] for code in query["code"] if code in found])


class LocalityQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=1990, max_value=2100)


class LocalityViewSet(_FeeViewSet):
    """Payment localities (MAC, locality number, name, GPCIs) of a year's GPCI file, national first."""

    serializer_class = LocalitySerializer
    query_serializer = LocalityQuerySerializer

    @extend_schema(
        parameters=[OpenApiParameter("year", OpenApiTypes.INT, description="GPCI year (default: latest).")],
        responses=LocalitySerializer(many=True),
    )
    def list(self, request):
        query = self._query(request)
        year = query.get("year")
        if year is not None and year not in pricing.available_years("gpci"):
            raise exceptions.NotFound(f"no GPCI file is loaded for {year}.")
        return self._respond(pricing.localities(year=year))


class CompareQuerySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=400, help_text="One code, or several separated by commas (at most 50).")
    year_a = serializers.IntegerField(min_value=1990, max_value=2100)
    year_b = serializers.IntegerField(min_value=1990, max_value=2100)
    locality = serializers.CharField(max_length=16, default="national")

    validate_code = FeeQuerySerializer.validate_code
    validate_locality = PhysicianQuerySerializer.validate_locality


class ChangeSerializer(serializers.Serializer):
    code = serializers.CharField()
    modifier = serializers.CharField(allow_blank=True)
    item = serializers.CharField(help_text="What is compared, e.g. 'Office RVU total', 'Conversion factor'.")
    before = serializers.CharField(allow_null=True, help_text="Value in year A (decimal string or text); null when absent.")
    after = serializers.CharField(allow_null=True, help_text="Value in year B; null when absent.")
    difference = serializers.CharField(allow_null=True)
    percent = serializers.CharField(allow_null=True)
    changed = serializers.BooleanField()


class CompareViewSet(_FeeViewSet):
    """What changed for codes between two years: PFS amounts, RVU totals, CF, status, ASC and OPPS indicators and rates."""

    serializer_class = ChangeSerializer
    query_serializer = CompareQuerySerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("code", OpenApiTypes.STR, required=True, description="CPT/HCPCS code(s), comma-separated."),
            OpenApiParameter("year_a", OpenApiTypes.INT, required=True),
            OpenApiParameter("year_b", OpenApiTypes.INT, required=True),
            OpenApiParameter("locality", OpenApiTypes.STR, description="'national' or MAC-LOCALITY, e.g. 02102-01."),
        ],
        responses=ChangeSerializer(many=True),
    )
    def list(self, request):
        query = self._query(request)
        changes = _priced(
            pricing.compare_years, query["code"], year_a=query["year_a"], year_b=query["year_b"], locality=query["locality"]
        )
        return self._respond(
            [
                {
                    "code": c.code,
                    "modifier": c.modifier,
                    "item": c.item,
                    "before": None if c.before is None else str(c.before),
                    "after": None if c.after is None else str(c.after),
                    "difference": None if c.difference is None else str(c.difference),
                    "percent": None if c.percent is None else str(c.percent),
                    "changed": c.changed,
                }
                for c in changes
            ]
        )


class EstimateViewSet(viewsets.ViewSet):
    """Estimate a case's Medicare payment: per-line amounts after multiple-procedure rules, and the total."""

    permission_classes = [LookupPermission]

    @extend_schema(request=EstimateRequestSerializer, responses={200: EstimateSerializer})
    def create(self, request):
        given = EstimateRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        result = _checked(
            pricing.estimate,
            setting=data["setting"],
            date_of_service=data["date_of_service"],
            locality=data["locality"],
            lines=[
                pricing.EstimateLine(line["code"], tuple(m.upper() for m in line["modifiers"]), line["units"])
                for line in data["lines"]
            ],
            wage_index=data.get("wage_index"),
        )
        return Response(EstimateSerializer(result.as_dict()).data, status=status.HTTP_200_OK)


def register(router) -> None:
    router.register("fees/physician", PhysicianFeeViewSet, basename="fees-physician")
    router.register("fees/asc", AscFeeViewSet, basename="fees-asc")
    router.register("fees/opps", OppsFeeViewSet, basename="fees-opps")
    router.register("fees/localities", LocalityViewSet, basename="fees-localities")
    router.register("fees/compare", CompareViewSet, basename="fees-compare")
    router.register("estimates", EstimateViewSet, basename="estimate")
