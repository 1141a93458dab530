from django.urls import path

from inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("inquiries/", views.queue, name="queue"),
    path("inquiries/dashboard/", views.dashboard, name="dashboard"),
    path("inquiries/quarantine/", views.quarantine, name="quarantine"),
    path("inquiries/quarantine/<int:pk>/reviewed/", views.quarantine_reviewed, name="quarantine_reviewed"),
    path("inquiries/raw/<int:pk>.eml", views.raw_message, name="raw_message"),
    path("inquiries/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("inquiries/<int:pk>/", views.detail, name="detail"),
    path("inquiries/<int:pk>/codes/<int:link_id>/remove/", views.unlink_code, name="unlink_code"),
    path("inquiries/<int:pk>/participants/remove/", views.remove_participant, name="remove_participant"),
    path("inquiries/<int:pk>/<slug:name>/", views.action, name="action"),
    path("ask/", views.ask_question, name="ask"),
    path("ask/thanks/", views.ask_thanks, name="ask_thanks"),
]
