from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from reimbursement import api_views, views
from reimbursement.api_urls import router

admin.site.site_header = "Reimbursement Desk administration"
admin.site.site_title = "Reimbursement Desk"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/me/", api_views.MeView.as_view(), name="api-me"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("codes.urls")),
    path("", include("inquiries.urls")),
]

handler400 = "reimbursement.views.bad_request"
handler403 = "reimbursement.views.permission_denied"
handler404 = "reimbursement.views.page_not_found"
handler500 = "reimbursement.views.server_error"
