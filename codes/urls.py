from django.urls import path

from codes.views import catalog as catalog_views
from codes.views import fees as fee_views
from codes.views import guides, pages

app_name = "codes"

urlpatterns = [
    path("lookup/", pages.lookup, name="lookup"),
    path("codes/<str:system>/<str:code>/", catalog_views.code_detail, name="code_detail"),
    path("guides/", guides.guide_list, name="guide_list"),
    path("guides/<slug:slug>/", guides.guide_latest, name="guide_latest"),
    path("guides/<slug:slug>/<int:year>/", guides.guide_detail, name="guide_detail"),
    path("guides/<slug:slug>/<int:year>/export.csv", guides.guide_csv, name="guide_csv"),
    path("guides/<slug:slug>/<int:year>/guide.pdf", guides.guide_pdf, name="guide_pdf"),
    path("claim-check/", guides.claim_check, name="claim_check"),
    path("estimator/", fee_views.estimator, name="estimator"),
    path("codes/<str:system>/<str:code>/payments/", fee_views.code_payments, name="code_payments"),
    path("fees/compare/", fee_views.compare, name="fee_compare"),
    path("fees/localities/", fee_views.locality_list, name="fee_localities"),
]
