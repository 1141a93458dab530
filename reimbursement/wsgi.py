"""WSGI entry point; production runs it under gunicorn (see README)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reimbursement.settings")
application = get_wsgi_application()
