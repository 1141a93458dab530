"""Code catalog API: GET /api/v1/codes/?q=&system=&billable=&valid_on= and /api/v1/codes/{system}/{code}/."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from codes import catalog, search
from codes.models.catalog import Code, CodeSystem
from reimbursement.access import LookupPermission


@extend_schema_field(
    {"type": "string", "enum": [*CodeSystem.values], "description": "icd10cm, cpt (HCPCS Level I) or hcpcs (Level II)."}
)
class SystemField(serializers.ChoiceField):
    """The code system, documented as a pattern: an enum component would collide with the inquiries' "system" enum."""

    def __init__(self, **kwargs):
        super().__init__(choices=CodeSystem.choices, **kwargs)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="Code, prefix, range or words."
    )
    system = SystemField(required=False, allow_null=True, default=None)
    billable = serializers.BooleanField(required=False, allow_null=True, default=None)
    valid_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Only codes valid on this date (YYYY-MM-DD)."
    )


class CodeSerializer(serializers.ModelSerializer):
    system = SystemField(read_only=True)
    display = serializers.CharField(read_only=True)
    match = serializers.CharField(read_only=True, default=None, help_text="exact, prefix, range, words or similar.")
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Code
        fields = [
            "system",
            "code",
            "display",
            "short_description",
            "long_description",
            "billable",
            "first_effective",
            "last_effective",
            "match",
            "url",
            "page_url",
        ]

    def get_url(self, code) -> str:
        return reverse("code-by-system", kwargs={"system": code.system, "code": code.code}, request=self.context.get("request"))

    def get_page_url(self, code) -> str:
        return (
            self.context["request"].build_absolute_uri(code.get_absolute_url())
            if "request" in self.context
            else code.get_absolute_url()
        )


class VersionSerializer(serializers.Serializer):
    release = serializers.CharField(source="release.label")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(allow_null=True)
    short_description = serializers.CharField()
    long_description = serializers.CharField()
    billable = serializers.BooleanField()


class NoteSerializer(serializers.Serializer):
    kind = serializers.CharField()
    carrier = serializers.CharField(help_text="The code (or the code above it) the note is written on.")
    text = serializers.CharField()


class CodeDetailSerializer(CodeSerializer):
    versions = VersionSerializer(many=True)
    ancestors = CodeSerializer(many=True)
    children = CodeSerializer(many=True)
    notes = NoteSerializer(many=True)
    seventh_characters = serializers.DictField(child=serializers.CharField())
    chapter = serializers.CharField(allow_null=True)
    section = serializers.CharField(allow_null=True)

    class Meta(CodeSerializer.Meta):
        fields = [
            *CodeSerializer.Meta.fields,
            "versions",
            "ancestors",
            "children",
            "notes",
            "seventh_characters",
            "chapter",
            "section",
        ]


def _detail(page: catalog.CodePage, context: dict) -> dict:
    notes = []
    if page.current is not None:
        for kind, _ in page.current.NOTE_KINDS:
            notes += [{"kind": kind, "carrier": page.code.display, "text": n["text"]} for n in page.current.notes_of(kind)]
    notes += [
        {"kind": kind, "carrier": carrier, "text": n["text"]} for carrier, kind, items in page.inherited_notes for n in items
    ]
    data = CodeSerializer(page.code, context=context).data
    data.update(
        versions=VersionSerializer(page.versions, many=True).data,
        ancestors=CodeSerializer(page.ancestors, many=True, context=context).data,
        children=CodeSerializer(page.children, many=True, context=context).data,
        notes=notes,
        seventh_characters=page.seventh_characters,
        chapter=str(page.chapter) if page.chapter else None,
        section=str(page.section) if page.section else None,
    )
    return data


class CodeViewSet(viewsets.GenericViewSet):
    """Search the code catalog (ICD-10-CM, CPT, HCPCS Level II) and read one code with its history and notes."""

    permission_classes = [LookupPermission]
    serializer_class = CodeSerializer
    queryset = Code.objects.none()
    filter_backends = []

    @extend_schema(parameters=[SearchQuerySerializer], responses=CodeSerializer(many=True))
    def list(self, request):
        """Search by code (dotted or not), prefix, range ("62322-62327", "C00-C14") or words; best first (at most 500)."""
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        found = search.search(
            params.validated_data["q"], **{k: v for k, v in params.validated_data.items() if k != "q"}, limit=search.MAX_LIMIT
        )
        page = self.paginate_queryset(found)
        return self.get_paginated_response(CodeSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("system", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[*CodeSystem.values]),
            OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="Dotted or dotless, any case."),
        ],
        responses=CodeDetailSerializer,
    )
    @action(detail=False, url_path=r"(?P<system>[A-Za-z0-9]+)/(?P<code>[A-Za-z0-9.]+)", url_name="by-system")
    def detail_by_system(self, request, system: str, code: str):
        """One code: descriptors, billable or header, releases it was in, hierarchy, children and tabular notes."""
        system = system.lower()
        if system not in CodeSystem.values:
            raise Http404(f"Unknown code system {system!r}; use one of {', '.join(CodeSystem.values)}.")
        page = catalog.code_page(system, code)
        if page is None:
            raise Http404(f"{code} is not in any loaded release of {CodeSystem(system).label}.")
        return Response(_detail(page, {"request": request}))


def register(router) -> None:
    router.register("codes", CodeViewSet, basename="code")
