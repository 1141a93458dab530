from django.urls import path

from codes.views import pages

app_name = "codes"

urlpatterns = [
    path("lookup/", pages.lookup, name="lookup"),
    path("guides/", pages.guide_list, name="guide_list"),
    path("estimator/", pages.estimator, name="estimator"),
]
