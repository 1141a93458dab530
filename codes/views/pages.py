from django.shortcuts import render

from reimbursement.access import lookup_view


@lookup_view
def lookup(request):
    return render(request, "codes/lookup.html", {"q": request.GET.get("q", "")})

