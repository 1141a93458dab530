"""The one API router: each app registers its viewsets in its own `api_routes(router)`."""

from rest_framework.routers import DefaultRouter

from codes import api as codes_api
from inquiries import api as inquiries_api

router = DefaultRouter()
codes_api.register(router)
inquiries_api.register(router)
