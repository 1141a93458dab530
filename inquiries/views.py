from django.shortcuts import render

from reimbursement.access import support_agent_required


@support_agent_required
def queue(request):
    return render(request, "inquiries/queue.html", {"inquiries": []})
