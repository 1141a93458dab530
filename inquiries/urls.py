from django.urls import path

from inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("inquiries/", views.queue, name="queue"),
]
