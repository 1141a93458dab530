"""Inquiry desk API (support agents only): list, retrieve (logged), and actions that call the workflow."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inquiries import serializers, workflow
from inquiries.filters import InquiryFilter
from inquiries.models import Inquiry, ViewLog
from reimbursement.access import IsSupportAgent


class InquiryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Inquiry.objects.select_related("assignee").order_by("-created_at")
    permission_classes = [IsSupportAgent]
    filterset_class = InquiryFilter

    def get_serializer_class(self):
        return serializers.InquirySerializer if self.action == "list" else serializers.InquiryDetailSerializer

    def _detail(self, inquiry: Inquiry) -> Response:
        workflow.log_view(inquiry, user=self.request.user, via=ViewLog.Via.API)
        inquiry = (
            self.get_queryset()
            .prefetch_related("messages__attachments", "messages__author", "events__actor", "code_links", "participants")
            .get(pk=inquiry.pk)
        )
        return Response(serializers.InquiryDetailSerializer(inquiry, context=self.get_serializer_context()).data)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    def _run(self, input_class, call):
        inquiry = self.get_object()
        data = {}
        if input_class is not None:
            form = input_class(data=self.request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
        try:
            call(inquiry, data, self.request.user)
        except workflow.WorkflowError as exc:
            raise exceptions.ValidationError(str(exc)) from exc
        return self._detail(inquiry)

    @extend_schema(request=serializers.AssignInput, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._run(serializers.AssignInput, lambda i, d, u: workflow.assign(i, to=d["assignee"], by=u))

    @extend_schema(request=serializers.ReplyInput, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        return self._run(
            serializers.ReplyInput, lambda i, d, u: workflow.reply(i, body=d["body"], by=u, resolve_after=d["resolve"])
        )

    @extend_schema(request=serializers.BodyInput, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        return self._run(serializers.BodyInput, lambda i, d, u: workflow.add_note(i, body=d["body"], by=u))

    @extend_schema(request=None, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._run(None, lambda i, d, u: workflow.resolve(i, by=u))

    @extend_schema(request=None, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._run(None, lambda i, d, u: workflow.close(i, by=u))

    @extend_schema(request=serializers.ReopenInput, responses=serializers.InquiryDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._run(serializers.ReopenInput, lambda i, d, u: workflow.reopen(i, by=u, reason=d["reason"]))


def register(router) -> None:
    """Register this app's viewsets on the project router."""
    router.register("inquiries", InquiryViewSet, basename="inquiry")
