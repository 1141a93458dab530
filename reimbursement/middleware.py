"""Request checks that every view would otherwise repeat."""

from reimbursement import views

NUL = "\x00"


class RejectNulCharactersMiddleware:
    """Answer 400 to a request whose path, query string or form fields hold a NUL character.

    PostgreSQL text cannot hold NUL, so such a value reaching a query is a database error (a 500);
    no code, date, name or question ever contains one. Django's form fields reject it too, but many
    lookups read request.GET directly.
    """

    message = "The request contains a NUL character, which no field accepts."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forms = [request.GET]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            forms.append(request.POST)
        if NUL in request.path or any(NUL in value for form in forms for _, values in form.lists() for value in values):
            return views.bad_request(request, message=self.message)
        return self.get_response(request)
