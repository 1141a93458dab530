"""Guide pages (HTML, CSV, PDF) and the claim check page; the tables come from codes.guides."""

import csv
import functools
import mimetypes
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from django import forms
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from codes import claims, guides, pricing
from reimbursement.access import lookup_view


@lookup_view
def guide_list(request):
    return render(request, "codes/guide_list.html", {"guides": guides.guides_for(request.user)})


@lookup_view
def guide_latest(request, slug):
    guide = guides.load_guide(slug, user=request.user)
    if guide is None:
        raise Http404("No such guide.")
    return redirect("codes:guide_detail", slug=slug, year=guides.default_year())


def _loaded_year(view):
    """Answer 404 with the loaded years for a year without a fee schedule (the same for page, CSV and PDF)."""

    @functools.wraps(view)
    def wrapped(request, slug, year):
        years = guides.loaded_years()
        if year not in years:
            context = {"slug": slug, "year": year, "years": years}
            return render(request, "codes/guide_year_missing.html", context, status=404)
        return view(request, slug, year)

    return wrapped


def _page(request, slug, year):
    guide = guides.load_guide(slug, user=request.user)
    if guide is None:
        raise Http404("No such guide.")
    locality = request.GET.get("locality", guides.NATIONAL) or guides.NATIONAL
    cents = request.GET.get("amounts") == "cents"
    try:
        page = guides.build_page(guide, year=year, locality=locality, cents=cents)
    except guides.UnknownLocality as exc:
        raise Http404(str(exc)) from exc
    return page, cents


def _query(page, cents, **extra) -> str:
    params = {"locality": page.locality, "amounts": "cents" if cents else "dollars", **extra}
    return urlencode(params)


@lookup_view
@_loaded_year
def guide_detail(request, slug, year):
    # The year picker submits ?year=; keep the year in the path so a guide edition has one address.
    if "year" in request.GET and request.GET["year"].isdecimal() and int(request.GET["year"]) != year:
        url = reverse("codes:guide_detail", kwargs={"slug": slug, "year": int(request.GET["year"])})
        query = request.GET.copy()
        del query["year"]
        return redirect(f"{url}?{query.urlencode()}")
    page, cents = _page(request, slug, year)
    base = {"slug": slug, "year": year}
    context = {
        "page": page,
        "cents": cents,
        "csv_url": f"{reverse('codes:guide_csv', kwargs=base)}?{_query(page, cents)}",
        "pdf_url": f"{reverse('codes:guide_pdf', kwargs=base)}?{_query(page, cents)}",
    }
    return render(request, "codes/guide_detail.html", context)


@lookup_view
@_loaded_year
def guide_csv(request, slug, year):
    page, cents = _page(request, slug, year)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{year}-{page.locality}.csv"'
    writer = csv.writer(response)
    for line in guides.csv_rows(page):
        writer.writerow(line)
    return response


def _static_only_fetcher():
    """Return a WeasyPrint fetcher that reads the project's static files from disk and fetches nothing else.

    The default would request our own stylesheets over HTTP (a request to ourselves, or to anywhere a page links).
    """
    from django.contrib.staticfiles import finders
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    prefix = "/" + settings.STATIC_URL.lstrip("/")

    class StaticOnly(URLFetcher):
        def fetch(self, url, headers=None):
            path = urlparse(url).path
            found = finders.find(path.removeprefix(prefix)) if path.startswith(prefix) else None
            if not found:
                raise ValueError(f"not fetched for the PDF: {url}")
            return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": mimetypes.guess_type(found)[0]})

    return StaticOnly()


@lookup_view
@_loaded_year
def guide_pdf(request, slug, year):
    from weasyprint import HTML  # imported here: loading Pango costs time every other page does not need

    page, cents = _page(request, slug, year)
    html = render_to_string("codes/guide_detail.html", {"page": page, "cents": cents, "pdf": True}, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/"), url_fetcher=_static_only_fetcher()).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{year}-{page.locality}.pdf"'
    return response


class ClaimForm(forms.Form):
    diagnoses = forms.CharField(
        label="Diagnosis codes, in order", max_length=200, help_text="Separated by spaces or commas, e.g. G89.29 G57.71"
    )
    setting = forms.ChoiceField(
        choices=[
            ("office", "Physician office"),
            ("facility", "Physician, facility"),
            ("asc", "ASC"),
            ("hospital_outpatient", "Hospital outpatient"),
        ]
    )
    date_of_service = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    locality = forms.CharField(max_length=16, initial=guides.NATIONAL, help_text="national, or MAC-locality such as 02102-01")

    def clean_diagnoses(self):
        codes = self.cleaned_data["diagnoses"].replace(",", " ").split()
        if message := claims.malformed_diagnoses(codes):
            raise forms.ValidationError(message)
        return codes


class ProcedureForm(forms.Form):
    code = forms.CharField(max_length=5, required=False)
    modifiers = forms.CharField(max_length=20, required=False)
    units = forms.IntegerField(min_value=1, max_value=pricing.MAX_UNITS, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The lines are a grid under one set of column headings: each input still needs its own name for screen readers.
        index = (self.prefix or "").rsplit("-", 1)[-1]
        self.line_number = int(index) + 1 if index.isdecimal() else None
        for name, field in self.fields.items():
            field.widget.attrs["aria-label"] = f"Line {self.line_number} {name}" if self.line_number else name


ProcedureFormSet = forms.formset_factory(ProcedureForm, extra=4, max_num=20)


@lookup_view
def claim_check(request):
    result = None
    error = ""
    if request.method == "POST":
        form, lines = ClaimForm(request.POST), ProcedureFormSet(request.POST, prefix="lines")
        if form.is_valid() and lines.is_valid():
            procedures = [
                claims.ProcedureLine(
                    line["code"].strip().upper(), tuple(line["modifiers"].replace(",", " ").split()), line["units"] or 1
                )
                for line in lines.cleaned_data
                if line.get("code")
            ]
            try:
                result = claims.check_claim(
                    diagnoses=form.cleaned_data["diagnoses"],
                    procedures=procedures,
                    setting=form.cleaned_data["setting"],
                    date_of_service=form.cleaned_data["date_of_service"],
                    locality=form.cleaned_data["locality"].strip() or guides.NATIONAL,
                )
            except claims.ClaimCheckError as exc:
                error = str(exc)
    else:
        form = ClaimForm(initial={"date_of_service": pricing.default_date_of_service(timezone.localdate()), "setting": "asc"})
        lines = ProcedureFormSet(prefix="lines")
    status = 400 if request.method == "POST" and (error or not form.is_valid() or not lines.is_valid()) else 200
    estimate = result.estimate if result else None
    context = {"form": form, "lines": lines, "result": result, "error": error, "estimate": _estimate_display(estimate)}
    return render(request, "codes/claim_check.html", context, status=status)


def _estimate_display(estimate: dict | None) -> dict | None:
    """Return the estimate with amounts formatted for people ($1,234.56) and explanations as sentences."""
    from codes import pricing

    if not estimate:
        return None

    def money(text):
        return pricing.dollars(Decimal(text)) if text is not None else ""

    lines = [
        {
            "code": "-".join([line["code"], *line["modifiers"]]),
            "indicator": line["indicator"],
            "amount": money(line["amount"]) or line["reason"],
            "how": "; ".join(line["explanation"]["arithmetic"]) or line["reason"],
            "source": line["explanation"]["source"],
        }
        for line in estimate["lines"]
    ]
    return {"lines": lines, "total": money(estimate["total"]), "notes": estimate.get("notes", [])}
