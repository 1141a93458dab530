"""Catalog pages: the lookup (instant results as you type, via htmx) and the code page."""

import datetime

from django.http import Http404
from django.shortcuts import redirect, render

from codes import catalog, search
from codes.models.catalog import CodeSystem, normalize_code
from reimbursement.access import lookup_view

PAGE_SIZE = 50


def _search_params(request) -> tuple[dict, list[str]]:
    errors = []
    system = request.GET.get("system") or None
    if system and system not in CodeSystem.values:
        errors.append(f"Unknown code system {system!r}.")
        system = None
    valid_on = None
    if request.GET.get("valid_on"):
        try:
            valid_on = datetime.date.fromisoformat(request.GET["valid_on"])
        except ValueError:
            errors.append("The date must look like 2024-10-01.")
    billable = True if request.GET.get("billable") in ("1", "true", "on") else None
    return {"system": system, "valid_on": valid_on, "billable": billable}, errors


@lookup_view
def lookup(request):
    """Search box with results; htmx requests get the results fragment only."""
    q = request.GET.get("q", "").strip()[:200]
    params, errors = _search_params(request)
    results = search.search(q, **params, limit=PAGE_SIZE) if q and not errors else []
    context = {
        "q": q,
        "results": results,
        "errors": errors,
        "systems": CodeSystem.choices,
        "params": params,
        "limit": PAGE_SIZE,
    }
    template = "codes/_code_results.html" if request.headers.get("HX-Request") else "codes/lookup.html"
    return render(request, template, context)


@lookup_view
def code_detail(request, system: str, code: str):
    """One code: descriptors, billable or header, hierarchy, notes, validity history, payments."""
    if system.lower() not in CodeSystem.values:
        raise Http404("Unknown code system.")
    dotless = normalize_code(code)
    if code != dotless or system != system.lower():
        return redirect("codes:code_detail", system=system.lower(), code=dotless)
    page = catalog.code_page(system, dotless)
    if page is None:
        raise Http404(f"{code} is not a code in any loaded release.")
    locality = request.GET.get("locality", "")
    return render(request, "codes/code_detail.html", {"page": page, "code": page.code, "locality": locality})
