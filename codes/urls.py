from django.urls import path

from codes import views

app_name = "codes"

urlpatterns = [
    path("lookup/", views.lookup, name="lookup"),
    path("guides/", views.guide_list, name="guide_list"),
    path("estimator/", views.estimator, name="estimator"),
]
