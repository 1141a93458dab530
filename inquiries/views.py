"""Agents' pages (queue, ticket, quarantine, dashboard) and the public "Ask a question" form.

Every agent page goes through `support_agent_required`; every look at a ticket is logged with workflow.log_view.
Changes are POSTs that validate a small form and call inquiries/workflow.py.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from inquiries import ask, charts, code_links, forms, ingest, stats, workflow
from inquiries.filters import ACTIVE, InquiryFilter
from inquiries.models import Attachment, Inquiry, Message, RawMessage, ViewLog
from reimbursement.access import support_agent_required

ASK_REFERENCE_KEY = "inquiries:ask:reference"


@support_agent_required
def queue(request):
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = ACTIVE
    filterset = InquiryFilter(data, queryset=Inquiry.objects.select_related("assignee").order_by("due_at", "-created_at"))
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(request, "inquiries/inquiry_list.html", {"filter": filterset, "page_obj": page, "now": timezone.now()})


def _inquiry(pk: int) -> Inquiry:
    return get_object_or_404(Inquiry.objects.select_related("assignee"), pk=pk)


def _verbs(inquiry: Inquiry) -> list[tuple[str, str]]:
    """Return the status buttons' labels: what the agent does, not the state it leads to."""
    reopening = inquiry.status in (Inquiry.Status.WAITING, Inquiry.Status.RESOLVED, Inquiry.Status.CLOSED)
    return [
        (Inquiry.Status.OPEN, "Reopen" if reopening else "Start work"),
        (Inquiry.Status.WAITING, "Wait on provider"),
        (Inquiry.Status.RESOLVED, "Resolve"),
        (Inquiry.Status.CLOSED, "Close"),
    ]


@support_agent_required
def detail(request, pk: int):
    inquiry = _inquiry(pk)
    workflow.log_view(inquiry, user=request.user, via=ViewLog.Via.PAGE)
    thread = inquiry.messages.select_related("author").prefetch_related(
        Prefetch("attachments", Attachment.objects.order_by("pk"))
    )
    reply_initial = {}
    canned_form = forms.CannedForm(request.GET if "canned" in request.GET else None)
    if canned_form.is_bound and canned_form.is_valid():
        reply_initial["body"] = workflow.render_canned(canned_form.cleaned_data["canned"], inquiry=inquiry, agent=request.user)
        if request.headers.get("X-Canned-Text"):  # the page's script adds it to the draft in the reply box
            return HttpResponse(reply_initial["body"], content_type="text/plain; charset=utf-8")
    codes = code_links.payments(inquiry)
    context = {
        "inquiry": inquiry,
        "thread": thread,
        "events": inquiry.events.select_related("actor"),
        "participants": inquiry.participants.all(),
        "codes": codes,
        "figures_source": code_links.figures_source(release for row in codes for release in row["releases"]),
        "recent_views": workflow.view_summary(inquiry),
        "transitions": [(s, label) for s, label in _verbs(inquiry) if s in workflow.ALLOWED_TRANSITIONS[inquiry.status]],
        "reply_form": forms.ReplyForm(initial=reply_initial),
        "note_form": forms.NoteForm(),
        "canned_form": canned_form if canned_form.is_bound else forms.CannedForm(),
        "assign_form": forms.AssignForm(initial={"assignee": inquiry.assignee_id}),
        "priority_form": forms.PriorityForm(initial={"priority": inquiry.priority}),
        "due_form": forms.DueForm(initial={"due_at": timezone.localtime(inquiry.due_at) if inquiry.due_at else None}),
        "code_form": forms.CodeLinkForm(),
        "participant_form": forms.ParticipantForm(),
    }
    return render(request, "inquiries/inquiry_detail.html", context)


# Each action: (form class, call) where call(inquiry, cleaned_data, user) runs one workflow function.
ACTIONS = {
    "reply": (
        forms.ReplyForm,
        lambda i, d, u: workflow.reply(i, body=d["body"], by=u, resolve_after=d["resolve"]),
        "Reply sent.",
    ),
    "note": (forms.NoteForm, lambda i, d, u: workflow.add_note(i, body=d["body"], by=u), "Note added."),
    "assign": (forms.AssignForm, lambda i, d, u: workflow.assign(i, to=d["assignee"], by=u), "Assignee saved."),
    "status": (forms.StatusForm, lambda i, d, u: workflow.transition(i, to=d["status"], by=u), "Status changed."),
    "priority": (forms.PriorityForm, lambda i, d, u: workflow.set_priority(i, priority=d["priority"], by=u), "Priority saved."),
    "due": (forms.DueForm, lambda i, d, u: workflow.set_due(i, due_at=d["due_at"], by=u), "Due date saved."),
    "link_code": (
        forms.CodeLinkForm,
        lambda i, d, u: workflow.link_code(i, system=d["system"], code=d["code"], by=u),
        "Code linked.",
    ),
    "add_participant": (
        forms.ParticipantForm,
        lambda i, d, u: workflow.add_participant(i, email=d["email"], name=d["name"], by=u),
        "Participant added.",
    ),
}


@support_agent_required
@require_POST
def action(request, pk: int, name: str):
    if name not in ACTIONS:
        raise Http404("No such action.")
    inquiry = _inquiry(pk)
    form_class, call, done = ACTIONS[name]
    form = form_class(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(errs)}" if field != "__all__" else " ".join(errs) for field, errs in form.errors.items()
        )
        messages.error(request, f"Not saved. {errors}")
        return redirect(inquiry)
    try:
        call(inquiry, form.cleaned_data, request.user)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(inquiry)


@support_agent_required
@require_POST
def unlink_code(request, pk: int, link_id: int):
    inquiry = _inquiry(pk)
    try:
        workflow.unlink_code(inquiry, link_id=link_id, by=request.user)
    except workflow.WorkflowError as exc:
        messages.error(request, str(exc))
    return redirect(inquiry)


@support_agent_required
@require_POST
def remove_participant(request, pk: int):
    inquiry = _inquiry(pk)
    workflow.remove_participant(inquiry, email=request.POST.get("email", ""), by=request.user)
    return redirect(inquiry)


@support_agent_required
def attachment(request, pk: int):
    """Serve an attachment as a download only (never rendered by the browser), logging the view."""
    item = get_object_or_404(Attachment.objects.select_related("message"), pk=pk)
    if item.too_large or not item.file:
        raise Http404("This attachment was over the size limit; it is kept only in the raw message.")
    if item.message.inquiry_id:
        workflow.log_view(item.message.inquiry_id, user=request.user, via=ViewLog.Via.DOWNLOAD)
    response = FileResponse(
        item.file.open("rb"), as_attachment=True, filename=item.filename, content_type="application/octet-stream"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@support_agent_required
def quarantine(request):
    rows = RawMessage.objects.filter(outcome=RawMessage.Outcome.QUARANTINED, reviewed_at__isnull=True).defer("raw")
    unmatched = Message.objects.filter(inquiry__isnull=True).select_related("raw_message").order_by("-created_at")[:100]
    stuck = RawMessage.objects.filter(
        outcome=RawMessage.Outcome.PENDING, received_at__lt=timezone.now() - ingest.PENDING_GRACE
    ).exclude(source=RawMessage.Source.OUTBOUND)
    context = {
        "page_obj": Paginator(rows, 50).get_page(request.GET.get("page")),
        "unmatched": unmatched,
        "pending": stuck.defer("raw")[:100],
    }
    return render(request, "inquiries/quarantine.html", context)


@support_agent_required
def raw_message(request, pk: int):
    """Download a stored raw message (.eml) exactly as received."""
    stored = get_object_or_404(RawMessage, pk=pk)
    for inquiry_id in stored.inquiry_ids():
        workflow.log_view(inquiry_id, user=request.user, via=ViewLog.Via.DOWNLOAD)
    response = HttpResponse(bytes(stored.raw), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="message-{stored.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@support_agent_required
@require_POST
def quarantine_reviewed(request, pk: int):
    RawMessage.objects.filter(pk=pk, outcome=RawMessage.Outcome.QUARANTINED).update(
        reviewed_by=request.user, reviewed_at=timezone.now()
    )
    messages.success(request, "Marked as dealt with.")
    return redirect("inquiries:quarantine")


@support_agent_required
def dashboard(request):
    weekly = stats.per_week()
    context = {
        "weekly_chart": charts.bar_chart("Inquiries per week", [(monday.strftime("%b %d"), count) for monday, count in weekly]),
        "codes_chart": charts.bar_chart("Top codes asked about", stats.top_codes(), horizontal=True),
        "first_response": stats.median_first_response_hours(),
        "resolution": stats.median_resolution_hours(),
        "status_counts": stats.status_counts(),
        "overdue": Inquiry.objects.overdue().count(),
        "quarantined": RawMessage.objects.filter(outcome=RawMessage.Outcome.QUARANTINED, reviewed_at__isnull=True).count(),
    }
    return render(request, "inquiries/dashboard.html", context)


def ask_question(request):
    """Public: providers send a question from the web; it becomes a ticket through ingest.receive."""
    sla = {"sla_days": settings.INQUIRIES_SLA_BUSINESS_DAYS}
    if request.method == "POST":
        form = forms.AskForm(request.POST, request.FILES)
        if not ask.allow(request.META.get("REMOTE_ADDR", "")):
            return render(
                request,
                "inquiries/ask.html",
                {
                    **sla,
                    "form": form,
                    "error": "Too many questions from your address. Please try again in an hour, or e-mail us.",
                },
                status=429,
            )
        if form.is_valid():
            data = form.cleaned_data
            result = ask.submit(
                name=data["name"],
                email=data["email"],
                organisation=data["organisation"],
                subject=data["subject"],
                question=data["question"],
                files=data["attachments"],
            )
            # Post/Redirect/Get: refreshing the thank-you page must not send the question again.
            request.session[ASK_REFERENCE_KEY] = result.inquiry.reference if result.inquiry else ""
            return redirect("inquiries:ask_thanks")
        return render(request, "inquiries/ask.html", {**sla, "form": form}, status=400)
    return render(request, "inquiries/ask.html", {**sla, "form": forms.AskForm()})


def ask_thanks(request):
    """Public: the page after a question is sent, with its reference (kept in the sender's session, not the URL)."""
    if ASK_REFERENCE_KEY not in request.session:
        return redirect("inquiries:ask")
    return render(request, "inquiries/ask_thanks.html", {"reference": request.session[ASK_REFERENCE_KEY]})
