"""Payment pages: a code's payments by year (htmx fragment), year-to-year compare, localities, estimator."""

from django import forms
from django.shortcuts import render
from django.utils import timezone

from codes import pricing
from codes.models.catalog import display_code
from reimbursement.access import lookup_view

PAYABLE_SYSTEMS = {"cpt", "hcpcs"}
MAX_LINES = 20
EMPTY_LINES = 3


def _locality_choices(*, year: int | None = None, selected: str | None = None) -> list[tuple[str, str]]:
    return [(option.key, option.label) for option in pricing.locality_picker(year=year, selected=selected)]


class LocalityField(forms.CharField):
    """'national' or MAC-LOCALITY (02102-01)."""

    def clean(self, value):
        value = super().clean(value) or "national"
        try:
            pricing.parse_locality(value)
        except pricing.PricingError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return value


class PaymentFilterForm(forms.Form):
    locality = LocalityField(required=False, max_length=16)
    year = forms.IntegerField(required=False, min_value=1990, max_value=2100)


class CompareForm(forms.Form):
    codes = forms.CharField(max_length=400, help_text="One or more codes, separated by commas or spaces.")
    year_a = forms.IntegerField(min_value=1990, max_value=2100, label="Year A")
    year_b = forms.IntegerField(min_value=1990, max_value=2100, label="Year B")
    locality = LocalityField(required=False, max_length=16)

    def clean_codes(self):
        codes = [pricing.normalise_code(c) for c in self.cleaned_data["codes"].replace(",", " ").split()]
        bad = [c for c in codes if len(c) != 5 or not c.isalnum()]
        if not codes or bad:
            raise forms.ValidationError(f"Not CPT/HCPCS codes: {', '.join(bad) or '(none given)'}.")
        return codes[:20]


class EstimateForm(forms.Form):
    setting = forms.ChoiceField(
        choices=[
            ("office", "Physician office (non-facility)"),
            ("facility", "Physician in a facility"),
            ("asc", "Ambulatory surgical center"),
            ("hospital_outpatient", "Hospital outpatient (OPPS)"),
        ]
    )
    date_of_service = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    locality = LocalityField(required=False, max_length=16)
    wage_index = forms.DecimalField(
        required=False, min_value=0, max_value=5, decimal_places=4, help_text="ASC/OPPS only; blank: national."
    )


def _lines_from(request) -> tuple[list[pricing.EstimateLine], list[dict], list[str]]:
    """Return estimate lines from the repeated code/modifiers/units parameters, the rows to redisplay, and errors."""
    codes = request.GET.getlist("code")
    modifiers = request.GET.getlist("modifiers")
    units = request.GET.getlist("units")
    lines, rows, errors = [], [], []
    for index, raw in enumerate(codes[:MAX_LINES]):
        code = pricing.normalise_code(raw)
        mods = modifiers[index] if index < len(modifiers) else ""
        count = units[index] if index < len(units) else "1"
        rows.append({"code": raw, "modifiers": mods, "units": count})
        if not code:
            continue
        if len(code) != 5 or not code.isalnum():
            errors.append(f"Line {index + 1}: {raw!r} is not a CPT/HCPCS code.")
            continue
        mod_list = tuple(m.upper() for m in mods.replace(",", " ").split())
        if any(len(m) != 2 or not m.isalnum() for m in mod_list):
            errors.append(f"Line {index + 1}: modifiers are two characters each, e.g. 26 or 50.")
            continue
        if not count.strip().isdecimal() or not 1 <= int(count) <= pricing.MAX_UNITS:
            errors.append(f"Line {index + 1}: units must be a whole number from 1 to {pricing.MAX_UNITS}.")
            continue
        lines.append(pricing.EstimateLine(code, mod_list, int(count)))
    return lines, rows, errors


@lookup_view
def code_payments(request, system: str, code: str):
    """Each loaded year's physician, ASC and OPPS payments of one code (an htmx fragment, or a page)."""
    code = pricing.normalise_code(code)
    form = PaymentFilterForm(request.GET)
    locality, only_year, error = "national", None, ""
    if form.is_valid():
        locality = form.cleaned_data["locality"] or "national"
        only_year = form.cleaned_data["year"]
    else:
        error = " ".join(m for messages in form.errors.values() for m in messages)
    kinds = ("pfs", "asc", "opps", "asp", "dmepos")
    years = sorted({year for kind in kinds for year in pricing.available_years(kind)}, reverse=True)
    options = pricing.locality_picker(year=only_year or (years[0] if years else None), selected=locality)
    localities = [(option.key, option.label) for option in options]
    state = next((option.state for option in options if option.key == locality), "")  # DMEPOS fees are by state
    sections = []
    if system.lower() in PAYABLE_SYSTEMS:
        for year in [only_year] if only_year else years:
            sections.append(_year_section(code, year, locality, state))
    context = {
        "system": system,
        "code": code,
        "display": display_code(system.lower(), code),
        "payable_system": system.lower() in PAYABLE_SYSTEMS,
        "sections": sections,
        "locality": locality,
        "year": only_year,
        "years": years,
        "localities": localities,
        "state": state,
        "error": error,
    }
    template = "codes/_code_payments.html" if request.headers.get("HX-Request") else "codes/code_payments.html"
    return render(request, template, context, status=400 if error else 200)


def _year_section(code: str, year: int, locality: str, state: str) -> dict:
    section = {"year": year, "physician": [], "asc": None, "opps": None, "drug": None, "dmepos": [], "notes": []}
    fetchers = [
        ("physician", pricing.physician_payments, {"locality": locality}, True),
        ("asc", pricing.asc_payments, {}, True),
        ("opps", pricing.opps_payments, {}, True),
        ("drug", pricing.asp_payments, {}, False),  # only drug codes have ASP rows: no note when the file is absent
    ]
    if state:
        fetchers.append(("dmepos", pricing.dmepos_payments, {"state": state}, False))
    for key, fetch, kwargs, note_missing in fetchers:
        try:
            found = fetch([code], year=year, **kwargs).get(code)
        except pricing.NotLoaded as exc:
            if note_missing:
                section["notes"].append(pricing.sentence(exc))
            continue
        section[key] = found or ([] if key in ("physician", "dmepos") else None)
    return section


@lookup_view
def compare(request):
    """Year A vs year B for one or more codes: amounts, change and percent, indicator changes."""
    years = pricing.available_years("pfs")
    initial = {"year_a": years[1] if len(years) > 1 else (years[0] if years else None), "year_b": years[0] if years else None}
    query = request.GET.copy()
    for name, year in initial.items():  # "Compare years" links name only the codes: the latest two loaded years
        if not query.get(name) and year is not None:
            query[name] = str(year)
    form = CompareForm(query if request.GET else None, initial=initial)
    changes, error = [], ""
    status = 200
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            changes = pricing.compare_years(
                data["codes"], year_a=data["year_a"], year_b=data["year_b"], locality=data["locality"] or "national"
            )
        except pricing.PricingError as exc:
            error, status = str(exc), 404 if isinstance(exc, pricing.NotLoaded) else 400
    elif request.GET:
        status = 400
    selected = request.GET.get("locality") or None
    context = {
        "form": form,
        "changes": changes,
        "error": error,
        "years": years,
        "localities": _locality_choices(selected=selected),
    }
    return render(request, "codes/fee_compare.html", context, status=status)


@lookup_view
def locality_list(request):
    """The payment localities of a year's GPCI file (MAC, locality number, name, GPCIs), filterable."""
    years = pricing.available_years("gpci")
    form = PaymentFilterForm(request.GET)
    year = form.cleaned_data.get("year") if form.is_valid() else None
    query = request.GET.get("q", "").strip().lower()
    options = pricing.localities(year=year or (years[0] if years else None)) if years else []
    if query:
        options = [o for o in options if query in o.label.lower() or query in o.key]
    context = {"options": options, "years": years, "year": year or (years[0] if years else None), "q": request.GET.get("q", "")}
    return render(request, "codes/localities.html", context)


@lookup_view
def estimator(request):
    """Estimate a case: setting, date of service, locality and procedure lines; per-line and total payment."""
    submitted = "setting" in request.GET
    initial = {"setting": "asc", "date_of_service": pricing.default_date_of_service(timezone.localdate())}
    query = request.GET.copy()
    if submitted and not query.get("date_of_service"):  # "Estimate a case" links name the setting and code only
        query["date_of_service"] = initial["date_of_service"].isoformat()
    form = EstimateForm(query if submitted else None, initial=initial)
    lines, rows, errors = _lines_from(request) if submitted else ([], [], [])
    result, status = None, 200
    if submitted:
        if form.is_valid() and not errors and lines:
            data = form.cleaned_data
            try:
                result = pricing.estimate(
                    setting=data["setting"],
                    date_of_service=data["date_of_service"],
                    locality=data["locality"] or "national",
                    lines=lines,
                    wage_index=data["wage_index"],
                )
            except pricing.PricingError as exc:
                errors.append(pricing.sentence(exc))
        elif not lines and not errors:
            errors.append("Add at least one procedure line.")
        if errors or not form.is_valid():
            status = 400
    rows = rows + [{"code": "", "modifiers": "", "units": "1"} for _ in range(EMPTY_LINES)]
    context = {
        "form": form,
        "rows": rows,
        "errors": errors,
        "result": result,
        "localities": _locality_choices(selected=request.GET.get("locality") or None),
    }
    return render(request, "codes/estimator.html", context, status=status)
