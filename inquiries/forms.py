"""Forms of the agents' ticket page and of the public "Ask a question" page."""

from pathlib import PurePath

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from inquiries.filters import agents
from inquiries.models import CannedResponse, CodeLink, Inquiry


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply to the provider", widget=forms.Textarea(attrs={"rows": 8}), max_length=50_000)
    resolve = forms.BooleanField(label="Mark resolved after sending", required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label="Internal note (never sent)", widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000)


class CannedForm(forms.Form):
    canned = forms.ModelChoiceField(queryset=CannedResponse.objects.filter(is_active=True), label="Canned response")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=agents(), required=False, empty_label="Unassigned", label="Assignee")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Inquiry.Status.choices)


class PriorityForm(forms.Form):
    priority = forms.TypedChoiceField(choices=Inquiry.Priority.choices, coerce=int, label="Priority")


class DueForm(forms.Form):
    due_at = forms.DateTimeField(
        label="Due", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )


class CodeLinkForm(forms.Form):
    system = forms.ChoiceField(choices=CodeLink.System.choices)
    code = forms.CharField(max_length=10)


class ParticipantForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    name = forms.CharField(max_length=200, required=False)


# Public form ---------------------------------------------------------------------------------

ALLOWED_UPLOAD_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_UPLOADS = 5


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ",".join(ALLOWED_UPLOAD_TYPES)}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


def _one_line(value: str) -> str:
    return " ".join(value.split())


class AskForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(label="Your e-mail", help_text="We answer to this address.")
    organisation = forms.CharField(label="Practice or facility", max_length=200, required=False)
    subject = forms.CharField(max_length=200)
    question = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=20_000,
        help_text=(
            "Codes (ICD-10-CM, CPT, HCPCS), dates of service and setting help us answer. "
            "Please do not send more patient information than the question needs."
        ),
    )
    attachments = MultipleFileField(required=False, help_text="Up to 5 files: PDF, images, text, Word or Excel.")

    # Name and subject become mail headers: a line break there (only a hand-made request can send one)
    # would break the message, so white space of any kind is folded into single spaces.
    def clean_name(self):
        return _one_line(self.cleaned_data["name"])

    def clean_subject(self):
        return _one_line(self.cleaned_data["subject"])

    def clean_organisation(self):
        return _one_line(self.cleaned_data["organisation"])

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_UPLOADS:
            raise forms.ValidationError(f"Attach at most {MAX_UPLOADS} files.")
        cap = settings.INQUIRIES_MAX_ATTACHMENT_BYTES
        for upload in files:
            upload.name = _one_line(upload.name)
            suffix = PurePath(upload.name).suffix.lower()
            if suffix not in ALLOWED_UPLOAD_TYPES:
                raise forms.ValidationError(f"{upload.name}: files of this type are not accepted.")
            if upload.size > cap:
                raise forms.ValidationError(f"{upload.name} is larger than {filesizeformat(cap)}.")
        return files
