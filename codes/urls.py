from django.urls import path

from codes.views import fees as fee_views
from codes.views import pages

app_name = "codes"

urlpatterns = [
    path("lookup/", pages.lookup, name="lookup"),
    path("guides/", pages.guide_list, name="guide_list"),
    path("estimator/", fee_views.estimator, name="estimator"),
    path("codes/<str:system>/<str:code>/payments/", fee_views.code_payments, name="code_payments"),
    path("fees/compare/", fee_views.compare, name="fee_compare"),
    path("fees/localities/", fee_views.locality_list, name="fee_localities"),
]
