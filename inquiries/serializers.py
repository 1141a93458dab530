"""Inquiry API serializers: explicit fields, read-only output; small input serializers for workflow actions."""

from django.urls import reverse
from rest_framework import serializers

from inquiries import code_links
from inquiries.filters import agents
from inquiries.models import Attachment, CodeLink, Inquiry, InquiryEvent, Message, Participant


class InquirySerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    # Plain text: an enum here would collide in the OpenAPI schema with other apps' "source" choices.
    source = serializers.CharField(read_only=True, help_text="email or web")

    class Meta:
        model = Inquiry
        fields = [
            "id", "reference", "subject", "status", "priority", "source", "provider_name", "provider_email",
            "assignee", "due_at", "is_overdue", "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "inline", "too_large", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj) -> str | None:
        return None if obj.too_large else reverse("inquiries:attachment", args=[obj.pk])


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "direction", "kind", "message_id", "subject", "from_name", "from_address", "to", "cc",
            "sent_at", "created_at", "text", "author", "detail", "attachments",
        ]  # fmt: skip
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = InquiryEvent
        fields = ["kind", "actor", "data", "at"]
        read_only_fields = fields


class CodeLinkSerializer(serializers.ModelSerializer):
    display = serializers.SerializerMethodField()

    class Meta:
        model = CodeLink
        fields = ["id", "system", "code", "display", "origin"]
        read_only_fields = fields

    def get_display(self, obj) -> str:
        return code_links.display(obj.system, obj.code)


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ["email", "name", "role"]
        read_only_fields = fields


class InquiryDetailSerializer(InquirySerializer):
    messages = MessageSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    code_links = CodeLinkSerializer(many=True, read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta(InquirySerializer.Meta):
        fields = [*InquirySerializer.Meta.fields, "participants", "code_links", "messages", "events"]
        read_only_fields = fields


class AssignInput(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=agents(), allow_null=True, help_text="User id of an agent; null unassigns."
    )


class BodyInput(serializers.Serializer):
    body = serializers.CharField(max_length=50_000, trim_whitespace=True)


class ReplyInput(BodyInput):
    resolve = serializers.BooleanField(default=False, help_text="Mark resolved after sending.")


class ReopenInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
