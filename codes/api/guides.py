"""Claim check API: POST /api/v1/claim-checks/ checks a planned claim and estimates its payment."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from codes import catalog, claims, pricing
from reimbursement.access import LookupPermission


class ProcedureLineSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10)
    modifiers = serializers.ListField(child=serializers.CharField(max_length=2), max_length=4, default=list)
    units = serializers.IntegerField(min_value=1, max_value=pricing.MAX_UNITS, default=1)

    def validate_code(self, value):
        if not catalog.is_code_like(value):
            raise serializers.ValidationError(f"{value!r} is not a CPT or HCPCS code.")
        return value.strip().upper()


class ClaimCheckRequestSerializer(serializers.Serializer):
    diagnoses = serializers.ListField(child=serializers.CharField(max_length=10), max_length=12, default=list)
    procedures = ProcedureLineSerializer(many=True, default=list)
    setting = serializers.ChoiceField(choices=claims.SETTINGS)
    date_of_service = serializers.DateField()
    locality = serializers.CharField(max_length=16, default="national")

    def validate_diagnoses(self, value):
        if message := claims.malformed_diagnoses(value):
            raise serializers.ValidationError(message)
        return value

    def validate(self, data):
        if not data["diagnoses"] and not data["procedures"]:
            raise serializers.ValidationError("Give at least one diagnosis or procedure.")
        if len(data["procedures"]) > 20:
            raise serializers.ValidationError("At most 20 procedure lines.")
        return data


class FindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning", "info"])
    source = serializers.ChoiceField(choices=claims.SOURCES)
    codes = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField()
    rule = serializers.CharField()


class ClaimCheckResponseSerializer(serializers.Serializer):
    findings = FindingSerializer(many=True)
    estimate = serializers.JSONField(allow_null=True, help_text='Payment estimate: {"lines": [...], "total": "16275.44"}.')


class ClaimCheckViewSet(viewsets.ViewSet):
    """Check diagnoses and procedure lines against the code set, ICD-10-CM Excludes1, the guides' rules and NCCI."""

    permission_classes = [LookupPermission]

    @extend_schema(request=ClaimCheckRequestSerializer, responses={200: ClaimCheckResponseSerializer})
    def create(self, request):
        given = ClaimCheckRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            result = claims.check_claim(
                diagnoses=data["diagnoses"],
                procedures=[claims.ProcedureLine(p["code"], tuple(p["modifiers"]), p["units"]) for p in data["procedures"]],
                setting=data["setting"],
                date_of_service=data["date_of_service"],
                locality=data["locality"],
            )
        except claims.ClaimCheckError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(ClaimCheckResponseSerializer(result.as_dict()).data, status=status.HTTP_200_OK)


def register(router) -> None:
    router.register("claim-checks", ClaimCheckViewSet, basename="claim-check")
