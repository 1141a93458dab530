"""`make run` starter data for the desk: canned responses and two demo questions, idempotent."""

import pytest

from inquiries import starter
from inquiries.models import CannedResponse, Inquiry

pytestmark = pytest.mark.django_db


def test_starter_data_loads_once_and_again_without_doubling(settings):
    settings.DEBUG = True  # as under make run
    first = starter.load_starter_data()
    again = starter.load_starter_data()

    assert first == ["Inquiry desk: 3 canned responses; demo questions: new_ticket, new_ticket"]
    assert again == ["Inquiry desk: 3 canned responses; demo questions: duplicate, duplicate"]
    assert Inquiry.objects.count() == 2 and CannedResponse.objects.count() == 3
    assert set(Inquiry.objects.values_list("provider_email", flat=True)) == {"dana.whitfield@example.com", "billing@example.org"}


def test_production_gets_the_canned_responses_but_no_invented_tickets(settings):
    settings.DEBUG = False

    assert starter.load_starter_data() == ["Inquiry desk: 3 canned responses; demo questions only with DJANGO_DEBUG=1"]
    assert not Inquiry.objects.exists() and CannedResponse.objects.count() == 3
