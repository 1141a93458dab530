"""One factory_boy factory per model, valid defaults. Apps add theirs here."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from reimbursement import roles

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `role=roles.SUPPORT_AGENTS` (etc.) puts it in that group, staff for staff roles."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted in roles.STAFF_ROLES and not self.is_staff:
                self.is_staff = True
                self.save(update_fields=["is_staff"])


class InquiryFactory(factory.django.DjangoModelFactory):
    """An inquiry from a provider (with that provider as its participant), due two business days out."""

    class Meta:
        model = "inquiries.Inquiry"
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Question {n} about intrathecal pump refills")
    provider_name = "Maria Gonzalez"
    provider_email = factory.Sequence(lambda n: f"provider{n}@example.com")

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if create:
            self.participants.create(email=self.provider_email, name=self.provider_name, role="from")


class CannedResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inquiries.CannedResponse"
        django_get_or_create = ("title",)

    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Dear {provider_name},\n\nThank you for your question about {codes}.\n\n{figures}"
